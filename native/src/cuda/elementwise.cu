// Elementwise unary and broadcast binary ops, where(), fill.
// CPU reference: dev.irtj.tensor.ScalarMath (apply/derivative) as used by
// ReferenceBackend.unary, unaryBackward, binary, where and fill.
// Op codes are the ordinals of dev.irtj.tensor.UnaryOp and BinaryOp. GELU and GELU_TANH are
// computed by gelu.cu; CudaBackend never sends them here.
#include "common.cuh"

enum UnaryCode { NEG, EXP, LOG, SQRT, RSQRT, ABS, RELU, GELU, GELU_TANH, TANH, SIGMOID, POW, CLAMP, AFFINE };
enum BinaryCode { ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE };

template <typename T>
__device__ __forceinline__ T unary_apply(int op, T x, T p0, T p1) {
    switch (op) {
        case NEG: return -x;
        case EXP: return exp(x);
        case LOG: return log(x);
        case SQRT: return sqrt(x);
        case RSQRT: return T(1) / sqrt(x);
        case ABS: return fabs(x);
        case RELU: return x > T(0) ? x : (isnan(x) ? x : T(0));
        case TANH: return tanh(x);
        case SIGMOID: return T(1) / (T(1) + exp(-x));
        case POW: return pow(x, p0);
        // NaN stays NaN, as Math.min(Math.max(NaN, lo), hi) in the reference.
        case CLAMP: return isnan(x) ? x : (x < p0 ? p0 : (x > p1 ? p1 : x));
        case AFFINE: return x * p0 + p1;
        default: return T(NAN);
    }
}

template <typename T>
__device__ __forceinline__ T unary_derivative(int op, T x, T p0, T p1) {
    switch (op) {
        case NEG: return T(-1);
        case EXP: return exp(x);
        case LOG: return T(1) / x;
        case SQRT: return T(0.5) / sqrt(x);
        case RSQRT: return T(-0.5) / (x * sqrt(x));
        case ABS: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
        case RELU: return x > T(0) ? T(1) : T(0);
        case TANH: { T t = tanh(x); return T(1) - t * t; }
        case SIGMOID: { T s = T(1) / (T(1) + exp(-x)); return s * (T(1) - s); }
        case POW: return p0 == T(0) ? T(0) : p0 * pow(x, p0 - T(1));
        case CLAMP: return x >= p0 && x <= p1 ? T(1) : T(0);
        case AFFINE: return p0;
        default: return T(NAN);
    }
}

template <typename T>
__device__ __forceinline__ T binary_apply(int op, T a, T b) {
    switch (op) {
        case ADD: return a + b;
        case SUB: return a - b;
        case MUL: return a * b;
        case DIV: return a / b;
        case MAXIMUM: return isnan(a) || isnan(b) ? T(NAN) : (a > b ? a : b);
        case MINIMUM: return isnan(a) || isnan(b) ? T(NAN) : (a < b ? a : b);
        case EQ: return a == b ? T(1) : T(0);
        case NE: return a != b ? T(1) : T(0);
        case LT: return a < b ? T(1) : T(0);
        case LE: return a <= b ? T(1) : T(0);
        case GT: return a > b ? T(1) : T(0);
        case GE: return a >= b ? T(1) : T(0);
        default: return T(NAN);
    }
}

template <typename T>
__device__ void unary_kernel(int op, const T* x, Strided xs, T* out, int n, double p0, double p1) {
    StridedWalk xw(xs);
    GRID_STRIDE_LOOP(i, n) out[i] = unary_apply<T>(op, x[xw(i)], T(p0), T(p1));
}

template <typename T>
__device__ void unary_backward_kernel(int op, const T* x, Strided xs, const T* dy, Strided ds, T* out, int n,
                                      double p0, double p1) {
    StridedWalk dw(ds), xw(xs);
    GRID_STRIDE_LOOP(i, n) out[i] = dy[dw(i)] * unary_derivative<T>(op, x[xw(i)], T(p0), T(p1));
}

// a and b arrive already expanded to the output shape (broadcast dims have stride 0).
template <typename T>
__device__ void binary_kernel(int op, const T* a, Strided as, const T* b, Strided bs, T* out, int n) {
    StridedWalk aw(as), bw(bs);
    GRID_STRIDE_LOOP(i, n) out[i] = binary_apply<T>(op, a[aw(i)], b[bw(i)]);
}

template <typename T, typename C>
__device__ void where_kernel(const C* cond, Strided cs, const T* a, Strided as, const T* b, Strided bs, T* out, int n) {
    StridedWalk cw(cs), aw(as), bw(bs);
    GRID_STRIDE_LOOP(i, n) out[i] = cond[cw(i)] != C(0) ? a[aw(i)] : b[bw(i)];
}

template <typename T>
__device__ void fill_kernel(T* dst, Strided ds, int n, T value) {
    StridedWalk dw(ds);
    GRID_STRIDE_LOOP(i, n) dst[dw(i)] = value;
}

#define IRTJ_ELEMENTWISE(T, SUF)                                                                              \
    extern "C" __global__ void irtj_unary_##SUF(int op, const T* x, Strided xs, T* out, int n, double p0,     \
                                                double p1) {                                                  \
        unary_kernel<T>(op, x, xs, out, n, p0, p1);                                                           \
    }                                                                                                         \
    extern "C" __global__ void irtj_unary_backward_##SUF(int op, const T* x, Strided xs, const T* dy,         \
                                                         Strided ds, T* out, int n, double p0, double p1) {   \
        unary_backward_kernel<T>(op, x, xs, dy, ds, out, n, p0, p1);                                          \
    }                                                                                                         \
    extern "C" __global__ void irtj_binary_##SUF(int op, const T* a, Strided as, const T* b, Strided bs,      \
                                                 T* out, int n) {                                             \
        binary_kernel<T>(op, a, as, b, bs, out, n);                                                           \
    }

IRTJ_ELEMENTWISE(float, f32)
IRTJ_ELEMENTWISE(double, f64)

#define IRTJ_WHERE(T, SUF, C, CSUF)                                                                           \
    extern "C" __global__ void irtj_where_##SUF##_##CSUF(const C* cond, Strided cs, const T* a, Strided as,   \
                                                         const T* b, Strided bs, T* out, int n) {             \
        where_kernel<T, C>(cond, cs, a, as, b, bs, out, n);                                                   \
    }

IRTJ_WHERE(float, f32, float, f32)
IRTJ_WHERE(float, f32, double, f64)
IRTJ_WHERE(float, f32, long long, i64)
IRTJ_WHERE(double, f64, float, f32)
IRTJ_WHERE(double, f64, double, f64)
IRTJ_WHERE(double, f64, long long, i64)
IRTJ_WHERE(long long, i64, float, f32)
IRTJ_WHERE(long long, i64, double, f64)
IRTJ_WHERE(long long, i64, long long, i64)

extern "C" __global__ void irtj_fill_f32(float* dst, Strided ds, int n, double value) { fill_kernel<float>(dst, ds, n, (float) value); }
extern "C" __global__ void irtj_fill_f64(double* dst, Strided ds, int n, double value) { fill_kernel<double>(dst, ds, n, value); }
extern "C" __global__ void irtj_fill_i64(long long* dst, Strided ds, int n, double value) { fill_kernel<long long>(dst, ds, n, (long long) value); }
