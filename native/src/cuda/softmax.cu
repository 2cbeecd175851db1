// Softmax and log-softmax of scale·x over the last dimension, forward and backward; one block per
// row, max-subtracted.
// CPU reference: dev.irtj.tensor.ReferenceBackend.softmax / softmaxBackward.
// Rows are contiguous (CudaBackend makes a dense copy of other views first); blockDim.x is a
// multiple of 32, at most 1024.
#include "common.cuh"

template <typename T>
__device__ void softmax_forward(const T* x, T* y, int n, T scale, int log_form) {
    __shared__ T scratch[32];
    const T* row = x + (size_t) blockIdx.x * n;
    T* out = y + (size_t) blockIdx.x * n;
    T mx = T(-INFINITY);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T v = scale * row[j];
        mx = v > mx ? v : mx;
    }
    mx = block_max(mx, scratch);
    T sum = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) sum += exp(scale * row[j] - mx);
    sum = block_sum(sum, scratch);
    if (log_form) {
        T log_sum = log(sum);
        for (int j = threadIdx.x; j < n; j += blockDim.x) out[j] = scale * row[j] - mx - log_sum;
    } else {
        T inv = T(1) / sum;
        for (int j = threadIdx.x; j < n; j += blockDim.x) out[j] = exp(scale * row[j] - mx) * inv;
    }
}

// dx = scale·y·(dy − Σ dy·y), or for log-softmax scale·(dy − exp(y)·Σ dy).
template <typename T>
__device__ void softmax_backward(const T* y, const T* dy, T* dx, int n, T scale, int log_form) {
    __shared__ T scratch[32];
    size_t base = (size_t) blockIdx.x * n;
    T dot = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) dot += log_form ? dy[base + j] : dy[base + j] * y[base + j];
    dot = block_sum(dot, scratch);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T yj = y[base + j], gj = dy[base + j];
        dx[base + j] = log_form ? scale * (gj - exp(yj) * dot) : scale * yj * (gj - dot);
    }
}

#define IRTJ_SOFTMAX(T, SUF)                                                                                 \
    extern "C" __global__ void irtj_softmax_forward_##SUF(const T* x, T* y, int n, double scale,             \
                                                          int log_form) {                                    \
        softmax_forward<T>(x, y, n, T(scale), log_form);                                                     \
    }                                                                                                        \
    extern "C" __global__ void irtj_softmax_backward_##SUF(const T* y, const T* dy, T* dx, int n,            \
                                                           double scale, int log_form) {                     \
        softmax_backward<T>(y, dy, dx, n, T(scale), log_form);                                               \
    }

IRTJ_SOFTMAX(float, f32)
IRTJ_SOFTMAX(double, f64)
