// Bias + GELU, exact (erf) and tanh forms, forward and backward.
// CPU reference: dev.irtj.tensor.SpecialFunctions.gelu/geluGrad/geluTanh/geluTanhGrad through
// ScalarMath (ReferenceBackend.unary / unaryBackward with UnaryOp.GELU, GELU_TANH); with a bias,
// gelu(x + bias[j]) where j is the position in the last dimension (Linear's output column).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ T gelu_erf(T x) {
    return T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440)));
}

template <typename T>
__device__ __forceinline__ T gelu_erf_grad(T x) {
    T cdf = T(0.5) * (T(1) + erf(x * T(0.70710678118654752440)));
    T pdf = exp(T(-0.5) * x * x) * T(0.39894228040143267794);
    return cdf + x * pdf;
}

template <typename T>
__device__ __forceinline__ T gelu_tanh(T x) {
    T u = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
    return T(0.5) * x * (T(1) + tanh(u));
}

template <typename T>
__device__ __forceinline__ T gelu_tanh_grad(T x) {
    T u = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
    T t = tanh(u);
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * T(0.79788456080286535588) * (T(1) + T(3 * 0.044715) * x * x);
}

// bias may be null; otherwise it has `cols` elements and x's last dimension is `cols`.
template <typename T>
__device__ void bias_gelu_forward(int tanh_form, const T* x, Strided xs, const T* bias, int cols, T* out, int n) {
    GRID_STRIDE_LOOP(i, n) {
        T v = x[strided_offset(xs, i)];
        if (bias) v += bias[i % cols];
        out[i] = tanh_form ? gelu_tanh<T>(v) : gelu_erf<T>(v);
    }
}

// dx = dy · gelu'(x + bias); the bias gradient is dx summed over rows (reduce.cu's column sum).
template <typename T>
__device__ void bias_gelu_backward(int tanh_form, const T* x, Strided xs, const T* bias, int cols, const T* dy,
                                   Strided ds, T* dx, int n) {
    GRID_STRIDE_LOOP(i, n) {
        T v = x[strided_offset(xs, i)];
        if (bias) v += bias[i % cols];
        dx[i] = dy[strided_offset(ds, i)] * (tanh_form ? gelu_tanh_grad<T>(v) : gelu_erf_grad<T>(v));
    }
}

#define IRTJ_GELU(T, SUF)                                                                                     \
    extern "C" __global__ void irtj_bias_gelu_forward_##SUF(int tanh_form, const T* x, Strided xs,            \
                                                            const T* bias, int cols, T* out, int n) {         \
        bias_gelu_forward<T>(tanh_form, x, xs, bias, cols, out, n);                                           \
    }                                                                                                         \
    extern "C" __global__ void irtj_bias_gelu_backward_##SUF(int tanh_form, const T* x, Strided xs,           \
                                                             const T* bias, int cols, const T* dy,            \
                                                             Strided ds, T* dx, int n) {                      \
        bias_gelu_backward<T>(tanh_form, x, xs, bias, cols, dy, ds, dx, n);                                   \
    }

IRTJ_GELU(float, f32)
IRTJ_GELU(double, f64)
