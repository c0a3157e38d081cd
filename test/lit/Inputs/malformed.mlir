// A syntax error on line 4.
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %z = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %y = tosa.negate %x, %z, %z : (tensor<4xf32>, tensor<1xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
