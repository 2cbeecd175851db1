// Row L2-normalize, x / max(‖x‖₂, eps) over the last dimension, forward and backward; one block
// per row.
// CPU reference: dev.irtj.tensor.ReferenceBackend.l2Normalize / l2NormalizeBackward.
// Rows are contiguous; blockDim.x is a multiple of 32, at most 1024.
#include "common.cuh"

template <typename T>
__device__ void l2_forward(const T* x, T* y, int n, T eps) {
    __shared__ T scratch[32];
    size_t base = (size_t) blockIdx.x * n;
    T ss = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) ss += x[base + j] * x[base + j];
    ss = block_sum(ss, scratch);
    T norm = sqrt(ss);
    T d = norm > eps ? norm : eps;
    for (int j = threadIdx.x; j < n; j += blockDim.x) y[base + j] = x[base + j] / d;
}

// Above eps: (dy − x·(dy·x)/‖x‖²)/‖x‖; at or below it the denominator is the constant eps.
template <typename T>
__device__ void l2_backward(const T* x, const T* dy, T* dx, int n, T eps) {
    __shared__ T scratch[32];
    size_t base = (size_t) blockIdx.x * n;
    T ss = T(0), dot = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T xj = x[base + j];
        ss += xj * xj;
        dot += dy[base + j] * xj;
    }
    ss = block_sum(ss, scratch);
    dot = block_sum(dot, scratch);
    T norm = sqrt(ss);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T g = dy[base + j];
        dx[base + j] = norm > eps ? (g - x[base + j] * dot / (norm * norm)) / norm : g / eps;
    }
}

#define IRTJ_L2(T, SUF)                                                                                      \
    extern "C" __global__ void irtj_l2_forward_##SUF(const T* x, T* y, int n, double eps) {                  \
        l2_forward<T>(x, y, n, T(eps));                                                                      \
    }                                                                                                        \
    extern "C" __global__ void irtj_l2_backward_##SUF(const T* x, const T* dy, T* dx, int n, double eps) {   \
        l2_backward<T>(x, dy, dx, n, T(eps));                                                                \
    }

IRTJ_L2(float, f32)
IRTJ_L2(double, f64)
