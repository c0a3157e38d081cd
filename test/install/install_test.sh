#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then the embedding example built
# against the installed package only, with CMake (find_package) and with
# pkg-config, run on the bundled Fashion-MNIST model; and the installed tools.
#   install_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in bin/quant-opt bin/qo-run lib/libquant-opt.so lib/libquant-opt-rt.a include/quant-opt/quantizer.h \
         include/quant-opt/model_abi.h lib/cmake/quant-opt/quant-opt-config.cmake lib/pkgconfig/quant-opt.pc; do
  [ -e "$prefix/$f" ] || { echo "install_test: $f is not installed"; exit 1; }
done
echo "installed: bin/quant-opt bin/qo-run lib/libquant-opt.so lib/libquant-opt-rt.a headers CMake package pkg-config"

# A sanitizer build of the library needs the same runtime in the program.
san=""
if ldd "$prefix/lib/libquant-opt.so" | grep -q libasan; then san="-fsanitize=address,undefined"; fi

/usr/bin/python3 -c "import numpy as np; np.save('$work/calib.npy', np.random.default_rng(1).random((24, 1, 28, 28), dtype=np.float32))"

# CMake: find_package(quant-opt) with nothing but the prefix.
cmake -S "$src/examples/embed" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" > "$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cmake-build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
(cd "$work" && OMP_NUM_THREADS=1 ./cmake-build/embed "$src/examples/fashion-mnist/model.onnx" calib.npy m.so)
[ -s "$work/m.so" ] && [ -s "$work/m.h" ]

# pkg-config, and the library it built runs in the installed qo-run.
PKG_CONFIG_PATH=$prefix/lib/pkgconfig cc -Wall -Werror $san "$src/examples/embed/embed.c" \
  $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs quant-opt) -o "$work/embed-pc"
(cd "$work" && OMP_NUM_THREADS=1 ./embed-pc "$src/examples/fashion-mnist/model.onnx" calib.npy m2.so > pc.txt)
echo "pkg-config build: $(head -1 "$work/pc.txt")"
cmp "$work/m.h" "$work/m2.h" && echo "both builds wrote the same header"
"$prefix/bin/qo-run" -q "$work/m.so" "$work/calib.npy" -o "$work/y.npy"
"$prefix/bin/quant-opt" --version
