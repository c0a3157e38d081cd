/* Private declarations shared by the ONNX frontend's source files.
 *
 * Model of the importer: one pass over the (topologically sorted) graph.
 * Every ONNX value name maps to a qoValue with a static logical (ONNX-order)
 * shape. A value is either known at import time (isConst: host data, used for
 * weights and folded shape arithmetic) or computed at run time by emitted
 * TOSA ops, in which case it has an SSA id in ONNX layout and/or in NHWC
 * layout (rank-4 only). Op importers ask for an operand in the layout they
 * want (qoUse) and transposes are emitted lazily and cached. Nothing here is
 * visible outside the library. */
#ifndef QO_FRONTEND_ONNX_INTERNAL_H
#define QO_FRONTEND_ONNX_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "quant-opt/onnx.h"

#include "support/buffer.h"

/* ---- values and importer state ----------------------------------------- */

enum { QO_ONNX = 0, QO_NHWC = 1 }; /* layouts of run-time values */

typedef struct qoValue {
  char *name;
  int elemType; /* ONNX TensorProto data type */
  int rank;
  int64_t dims[QO_MAX_RANK]; /* logical (ONNX order) shape */
  int isConst;
  float *f;   /* const data of float types (elemType FLOAT/DOUBLE) */
  int64_t *i; /* const data of integer and bool types */
  int ssa[2]; /* run-time SSA id per layout (QO_ONNX, QO_NHWC), -1 if none */
  /* Integer run-time values (elemType INT8/UINT8/INT32: int8/uint8 graph
   * inputs, QuantizeLinear outputs, ConvInteger results): with `qp` the SSA
   * values are quant.qcast results of type tensor<..x!quant.uniform<..>>;
   * without, plain tensor<..xi8> (uint8 data as raw bits) or tensor<..xi32>.
   * `deq` caches the quant.dcast of a `qp` value per layout. For float
   * constants, `wq` marks weights that came from DequantizeLinear of an
   * integer initializer: materialising them emits a qcast/dcast pair. */
  struct qoQParams *qp, *wq;
  int deq[2];
} qoValue;

/* Quantization parameters of ONNX QuantizeLinear/DequantizeLinear. */
typedef struct qoQParams {
  int isSigned; /* int8 (i8 storage) or uint8 (u8 storage) */
  int n;        /* number of scales: 1 = per-tensor */
  int axis;     /* logical (ONNX-order) axis when n > 1 */
  float *scale;
  int64_t *zp;
} qoQParams;

/* Type of an emitted SSA value. */
typedef struct qoSsaType {
  char kind; /* 'f': tensor<..xf32>, 'b': tensor<..xi8>, 's': !tosa.shape<rank>,
                'x': tensor<..x E>, E = elem (interned in imp->elems) */
  const char *elem;
  int rank;
  int64_t dims[QO_MAX_RANK];
} qoSsaType;

/* Bounds on shapes from a model: any dimension and any tensor's element
 * count, so that shape arithmetic on values in the table cannot overflow. */
#define QO_MAX_DIM ((int64_t)1 << 40)
#define QO_MAX_ELEMS ((int64_t)1 << 40)
/* Constants that import-time folding creates beyond the size of the node's
 * inputs (ConstantOfShape, Expand, broadcasting) are limited to this many
 * elements each; all folded constants together to QO_FOLD_BUDGET plus the
 * model's size in bytes. */
#define QO_MAX_FOLD_GROWTH ((int64_t)1 << 24)
#define QO_FOLD_BUDGET ((int64_t)1 << 24)
/* Elements of constants written into the MLIR text: QO_CONST_BUDGET plus 4
 * per byte of the model (each weight is written once or twice). */
#define QO_CONST_BUDGET ((int64_t)1 << 26)

typedef struct qoImporter {
  const char *path;      /* display name for messages */
  const char *baseDir;   /* folder of external data files; NULL: refused */
  const Onnx__GraphProto *graph; /* for messages about later producers */
  char *error;           /* first error (malloc'd), NULL while all is well */
  qoOnnxStatus status;   /* what kind of error (QO_ONNX_OK while none) */
  int64_t foldBudget;    /* elements folding may still create */
  int64_t constBudget;   /* constant elements the text may still hold */
  int64_t opset;         /* default-domain opset version */
  const Onnx__NodeProto *node; /* node being imported, for messages/locs */
  char *nodeName;        /* its display name (malloc'd) */
  qoBuf body;            /* function body text */
  qoSsaType *types;      /* indexed by SSA id */
  int numSsa, capSsa;
  qoValue **values;      /* open-addressing hash table by name */
  size_t capValues, numValues;
  int zpSsa;             /* cached tensor<1xf32> zero, -1 */
  int shiftSsa;          /* cached tensor<1xi8> zero, -1 */
  char **elems;          /* interned element type strings (kind 'x') */
  int numElems, capElems;
  int64_t nextQid;       /* next qo.id of an activation quant.qcast */
} qoImporter;

/* Records an error about the current node (first one wins); returns -1.
 * qoFail: the model is invalid (QO_ONNX_INVALID); qoUnsupported: valid ONNX
 * the importer does not handle (QO_ONNX_UNSUPPORTED; the message starts with
 * "unsupported"); qoFailStatus: any other status (I/O, memory). */
int qoFail(qoImporter *imp, const char *fmt, ...) QO_PRINTF(2, 3);
int qoUnsupported(qoImporter *imp, const char *fmt, ...) QO_PRINTF(2, 3);
int qoFailStatus(qoImporter *imp, qoOnnxStatus status, const char *fmt, ...)
    QO_PRINTF(3, 4);

/* Numpy broadcast shape of `count` values into `dims`; returns the rank or -1
 * (after qoFail naming the incompatible dimension). */
int qoBroadcastShape(qoImporter *imp, qoValue **vs, int count, int64_t *dims);
/* Product of dims; saturates at INT64_MAX instead of overflowing (values in
 * the table are bounded by QO_MAX_ELEMS, so only raw shapes saturate). */
int64_t qoNumElements(int rank, const int64_t *dims);
/* 0 if every dim is in [0, QO_MAX_DIM] and the product <= QO_MAX_ELEMS,
 * else -1 after an error naming `what`. */
int qoCheckShape(qoImporter *imp, int rank, const int64_t *dims,
                 const char *what);
/* `x` rounded toward zero into int64 (NaN: 0; saturated out of range): the
 * C conversion of such values is undefined. */
int64_t qoF2I(double x);

/* values.c */
qoValue *qoLookup(qoImporter *imp, const char *name);
/* Creates a value `name` (replacing nothing: error if it exists). */
qoValue *qoDefine(qoImporter *imp, const char *name, int elemType, int rank,
                  const int64_t *dims);
void qoValuesFree(qoImporter *imp);
int qoIsFloatType(int elemType);
int qoIsIntType(int elemType);
const char *qoTypeName(int elemType);
/* Required input `idx` of the current node (error if absent/unknown). */
qoValue *qoInput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx);
/* Optional input: NULL without error when absent or named "". */
qoValue *qoOptInput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx);
/* Defines output `idx` of the node as a float run-time value. */
qoValue *qoOutput(qoImporter *imp, const Onnx__NodeProto *n, size_t idx,
                  int rank, const int64_t *dims);
/* Wraps the float constant `c` (materialised from `v`) in a qcast/dcast pair
 * when `v` carries weight quantization (v->wq); `physAxis` is the axis of
 * v->wq->axis in `c`'s layout, `c0` the first channel `c` holds. */
int qoWrapWeight(qoImporter *imp, const qoValue *v, int c, int physAxis,
                 int64_t c0);
/* Layout in which a run-time value is already available (NHWC preferred). */
int qoNatural(const qoValue *v);
/* SSA id of `v` in `layout` (emits a transpose or a tosa.const). -1 on error. */
int qoUse(qoImporter *imp, qoValue *v, int layout);
/* SSA id of `v` broadcast-ranked to `rank` (leading 1s), in `layout`. */
int qoUseRanked(qoImporter *imp, qoValue *v, int rank, int layout);
/* Physical dims of a logical shape in `layout`. */
void qoPhysDims(int layout, int rank, const int64_t *dims, int64_t *out);
/* Axis of the logical axis `a` in the physical order of `layout`. */
int qoPhysAxis(int layout, int rank, int a);
/* Normalises a possibly negative axis; -1 (with error) if out of range. */
int qoAxis(qoImporter *imp, int64_t axis, int rank, const char *what);

/* ---- emit.c: textual op emission ---------------------------------------- */

int qoNewSsa(qoImporter *imp, char kind, int rank, const int64_t *dims);
void qoPrintType(qoBuf *b, const qoSsaType *t);
void qoPrintTensorType(qoBuf *b, int rank, const int64_t *dims);
/* Emits `%vN = "op"(ins) <{props}> : (types) -> tensor<outDims x f32> loc`;
 * props may be NULL. Returns N, or -1 on error. */
int qoEmit(qoImporter *imp, const char *op, int nIn, const int *ins,
           const char *props, int outRank, const int64_t *outDims);
/* Same, with a discardable attribute dictionary `{attrs}` (IRDL ops). */
int qoEmitWithAttrs(qoImporter *imp, const char *op, int nIn, const int *ins,
                    const char *attrs, int outRank, const int64_t *outDims);
/* Emits an op whose result has element type `elem` (an interned string,
 * see qoElem; -1: f32), e.g. quant.qcast or an i32 tosa.conv2d. */
int qoEmitT(qoImporter *imp, const char *op, int nIn, const int *ins,
            const char *props, int inherent, int elem, int outRank,
            const int64_t *outDims);
/* Index of the interned element type string `s` (e.g. "i8", "ui8",
 * "!quant.uniform<u8:f32, 0.5:3>"); -1 on allocation failure. */
int qoElem(qoImporter *imp, const char *s);
/* qoEmitT element argument giving the element type of SSA `ssa`. */
int qoElemOf(qoImporter *imp, int ssa);
/* Integer tosa.const (element type `elemName`: "i8" or "i32"). */
int qoEmitConstInt(qoImporter *imp, const char *elemName, int rank,
                   const int64_t *dims, const int64_t *data);
/* Integer splat constant: every element `v`. */
int qoEmitSplatInt(qoImporter *imp, const char *elemName, int rank,
                   const int64_t *dims, int64_t v);
int qoEmitConstF32(qoImporter *imp, int rank, const int64_t *dims,
                   const float *data);
int qoEmitSplatF32(qoImporter *imp, int rank, const int64_t *dims, float v);
int qoEmitConstShape(qoImporter *imp, int n, const int64_t *vals);
int qoZeroPoint(qoImporter *imp); /* tensor<1xf32> zero (zp operands) */
int qoShift(qoImporter *imp);     /* tensor<1xi8> zero (tosa.mul shift) */
int qoEmitTranspose(qoImporter *imp, int in, const int *perm);
int qoEmitReshape(qoImporter *imp, int in, int rank, const int64_t *dims);
int qoEmitSlice(qoImporter *imp, int in, const int64_t *start,
                const int64_t *size);
int qoEmitClamp(qoImporter *imp, int in, float lo, float hi);
int qoEmitMul(qoImporter *imp, int a, int b); /* broadcasting shapes */
int qoEmitBinary(qoImporter *imp, const char *op, int a, int b);
int qoEmitUnary(qoImporter *imp, const char *op, int a);
/* Appends a float literal that MLIR parses back to the same f32. */
void qoPrintFloat(qoBuf *b, float v);
const qoSsaType *qoType(const qoImporter *imp, int ssa);

/* ---- tensor.c: TensorProto and attributes -------------------------------- */

/* Decodes a TensorProto into `out` (type, shape, malloc'd f or i data, which
 * the caller frees even on failure); -1 with error on bad/unsupported data. */
int qoDecodeTensor(qoImporter *imp, const Onnx__TensorProto *t,
                   const char *name, qoValue *out);
/* Decodes a TensorProto into a new const value named `name`. */
qoValue *qoValueFromTensor(qoImporter *imp, const Onnx__TensorProto *t,
                           const char *name);
const Onnx__AttributeProto *qoAttr(const Onnx__NodeProto *n, const char *name);
int64_t qoAttrInt(const Onnx__NodeProto *n, const char *name, int64_t dflt);
float qoAttrFloat(const Onnx__NodeProto *n, const char *name, float dflt);
/* Returns the ints of a list attribute (NULL and *count = 0 if absent). */
const int64_t *qoAttrInts(const Onnx__NodeProto *n, const char *name,
                          size_t *count);
/* Copies a string attribute into `out` (size `cap`); dflt if absent. */
void qoAttrString(const Onnx__NodeProto *n, const char *name, const char *dflt,
                  char *out, size_t cap);
/* Reads a const integer input (e.g. axes, pads) into `out`; returns the count
 * or -1 (with error) if it is not a known integer tensor. */
int qoConstInts(qoImporter *imp, qoValue *v, int64_t *out, int cap,
                const char *what);
int qoConstFloat(qoImporter *imp, qoValue *v, float *out, const char *what);

/* ---- shapes.c: import-time folding -------------------------------------- */

/* Folds the node if it is shape arithmetic on known values. Returns 1 if
 * folded, 0 if the node must be emitted, -1 on error. */
int qoTryFold(qoImporter *imp, const Onnx__NodeProto *n);

/* ---- ops_conv.c: window geometry shared by Conv and pooling ------------- */

typedef struct qoWindow {
  int64_t kernel[2], stride[2], dilation[2];
  int64_t out[2];                /* ONNX output size */
  int64_t padBegin[2], padEnd[2]; /* ONNX pads (after auto_pad) */
  int64_t tosaEnd[2];            /* end pad making TOSA's division exact */
  int64_t crop[2];               /* trailing input rows/cols TOSA must drop */
} qoWindow;

/* Fills `w` (kernel/stride/dilation already set) from the node's auto_pad,
 * pads and ceil_mode for spatial input size `in`. */
int qoWindowGeometry(qoImporter *imp, const Onnx__NodeProto *n,
                     const int64_t *in, int ceilMode, qoWindow *w);
/* Slices away w->crop from an NHWC SSA value. */
int qoCropNhwc(qoImporter *imp, int x, const qoWindow *w);
/* "pad = array<i64: t, b, l, r>, stride = ..., ..." into `out`. */
void qoWindowProps(const qoWindow *w, int withDilation, char *out, size_t cap);

/* ---- op importers (ops_*.c) ---------------------------------------------- */

typedef int (*qoOpImportFn)(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportUnary(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportBinary(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportVariadic(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportClip(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportPRelu(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportIdentity(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportConv(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportBatchNorm(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportPool(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportGlobalPool(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportGemm(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportMatMul(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportReshapeLike(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportTranspose(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportConcat(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportPad(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportSlice(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportSoftmax(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportReduce(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportQuantizeLinear(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportDequantizeLinear(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportQLinearConv(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportQLinearMatMul(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportConvInteger(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportMatMulInteger(qoImporter *imp, const Onnx__NodeProto *n);
int qoImportDynamicQuantizeLinear(qoImporter *imp, const Onnx__NodeProto *n);
/* Graph output of an integer run-time value (ops_quant.c): SSA id of its
 * integer tensor in ONNX layout (i8 bits, then ui8 for uint8; i32). */
int qoUseIntOutput(qoImporter *imp, qoValue *v);
/* Frees a value's quantization parameters. */
void qoQParamsFree(qoQParams *p);

/* Conv / MatMul cores shared with QLinearConv / QLinearMatMul: `x`, `wt`,
 * `b`, `A`, `B` are float values (possibly temporaries not in the table).
 * Return the NHWC (conv) or ONNX-layout (matmul) result SSA id. */
int qoConvCore(qoImporter *imp, const Onnx__NodeProto *n, qoValue *x,
               qoValue *wt, qoValue *b, int64_t *outDims);
int qoMatMulCore(qoImporter *imp, qoValue *A, qoValue *B, int *outRank,
                 int64_t *outDims);
/* Integer MatMul (MatMulInteger): `a`, `b` are i8 SSA ids of A and B in
 * ONNX layout, `zpA`/`zpB` tensor<1xi8> zero points; the result is i32. */
int qoMatMulIntCore(qoImporter *imp, const qoValue *A, const qoValue *B,
                    int a, int b, int zpA, int zpB, int *outRank,
                    int64_t *outDims);

/* Shape helpers shared by op importers (ops_shape.c). */
/* Output shape of Reshape (0 / -1 handling); -1 with error on mismatch. */
int qoReshapeDims(qoImporter *imp, const qoValue *in, const int64_t *spec,
                  int n, int allowZero, int64_t *out);
/* Output shape of Reshape/Flatten/Squeeze/Unsqueeze node `n` on `x`;
 * returns the rank or -1. */
int qoReshapeLikeDims(qoImporter *imp, const Onnx__NodeProto *n,
                      const qoValue *x, int64_t *dims);
/* Slice begin/step/result dims per axis of `x` (shapes.c). */
int qoSliceParams(qoImporter *imp, const Onnx__NodeProto *n, const qoValue *x,
                  int64_t *begin, int64_t *step, int64_t *dims);
/* Axes of Squeeze/Unsqueeze/Reduce*: attribute (opset < `inputSince`) or
 * input 1. Returns count, 0 if none given, -1 on error. */
int qoAxesOperand(qoImporter *imp, const Onnx__NodeProto *n, int inputSince,
                  int64_t *out, int cap);

#endif /* QO_FRONTEND_ONNX_INTERNAL_H */
