// Layer norm over the last dimension: forward (saving mean and 1/std per row) and backward
// (input gradient per row; weight and bias gradients reduced over rows deterministically, in
// two passes over fixed row chunks, no atomics).
// CPU reference: dev.irtj.tensor.ReferenceBackend.layerNorm / layerNormBackward.
// Rows are contiguous; blockDim.x is a multiple of 32, at most 1024.
#include "common.cuh"

// weight and bias may be null.
template <typename T>
__device__ void ln_forward(const T* x, const T* w, const T* b, T* y, T* mean_out, T* rstd_out, int n, T eps) {
    __shared__ T scratch[32];
    size_t base = (size_t) blockIdx.x * n;
    T s = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += x[base + j];
    T mean = block_sum(s, scratch) / T(n);
    // Two passes over the row (the second from L1/L2) rather than E[x²]−E[x]², which cancels.
    T q = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T d = x[base + j] - mean;
        q += d * d;
    }
    T var = block_sum(q, scratch) / T(n);
    T rstd = T(1) / sqrt(var + eps);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T v = (x[base + j] - mean) * rstd;
        if (w) v *= w[j];
        if (b) v += b[j];
        y[base + j] = v;
    }
    if (threadIdx.x == 0) {
        mean_out[blockIdx.x] = mean;
        rstd_out[blockIdx.x] = rstd;
    }
}

// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w.
template <typename T>
__device__ void ln_backward_input(const T* dy, const T* x, const T* w, const T* mean, const T* rstd, T* dx, int n) {
    __shared__ T scratch[32];
    size_t base = (size_t) blockIdx.x * n;
    T mu = mean[blockIdx.x], rs = rstd[blockIdx.x];
    T sg = T(0), sgx = T(0);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T g = dy[base + j] * (w ? w[j] : T(1));
        sg += g;
        sgx += g * (x[base + j] - mu) * rs;
    }
    sg = block_sum(sg, scratch) / T(n);
    sgx = block_sum(sgx, scratch) / T(n);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        T g = dy[base + j] * (w ? w[j] : T(1));
        T xhat = (x[base + j] - mu) * rs;
        dx[base + j] = rs * (g - sg - xhat * sgx);
    }
}

// Pass 1: blockIdx.y is a chunk of `chunk_rows` consecutive rows; each thread owns one column and
// sums over the chunk's rows in order into partial_w/partial_b[chunk][col].
template <typename T>
__device__ void ln_backward_params_partial(const T* dy, const T* x, const T* mean, const T* rstd, int rows, int n,
                                           int chunk_rows, T* partial_w, T* partial_b) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= n) return;
    int r0 = blockIdx.y * chunk_rows;
    int r1 = min(rows, r0 + chunk_rows);
    T sw = T(0), sb = T(0);
    for (int r = r0; r < r1; r++) {
        size_t at = (size_t) r * n + col;
        T g = dy[at];
        sw += g * (x[at] - mean[r]) * rstd[r];
        sb += g;
    }
    partial_w[(size_t) blockIdx.y * n + col] = sw;
    partial_b[(size_t) blockIdx.y * n + col] = sb;
}

// Pass 2: the chunks' partial sums for each column, in chunk order. dw or db may be null.
template <typename T>
__device__ void ln_backward_params_finish(const T* partial_w, const T* partial_b, int chunks, int n, T* dw, T* db) {
    GRID_STRIDE_LOOP(col, n) {
        T sw = T(0), sb = T(0);
        for (int c = 0; c < chunks; c++) {
            sw += partial_w[(size_t) c * n + col];
            sb += partial_b[(size_t) c * n + col];
        }
        if (dw) dw[col] = sw;
        if (db) db[col] = sb;
    }
}

#define IRTJ_LN(T, SUF)                                                                                      \
    extern "C" __global__ void irtj_layernorm_forward_##SUF(const T* x, const T* w, const T* b, T* y,        \
                                                            T* mean, T* rstd, int n, double eps) {           \
        ln_forward<T>(x, w, b, y, mean, rstd, n, T(eps));                                                    \
    }                                                                                                        \
    extern "C" __global__ void irtj_layernorm_backward_input_##SUF(const T* dy, const T* x, const T* w,      \
                                                                   const T* mean, const T* rstd, T* dx,      \
                                                                   int n) {                                  \
        ln_backward_input<T>(dy, x, w, mean, rstd, dx, n);                                                   \
    }                                                                                                        \
    extern "C" __global__ void irtj_layernorm_backward_params_partial_##SUF(                                 \
        const T* dy, const T* x, const T* mean, const T* rstd, int rows, int n, int chunk_rows,              \
        T* partial_w, T* partial_b) {                                                                        \
        ln_backward_params_partial<T>(dy, x, mean, rstd, rows, n, chunk_rows, partial_w, partial_b);         \
    }                                                                                                        \
    extern "C" __global__ void irtj_layernorm_backward_params_finish_##SUF(                                  \
        const T* partial_w, const T* partial_b, int chunks, int n, T* dw, T* db) {                           \
        ln_backward_params_finish<T>(partial_w, partial_b, chunks, n, dw, db);                               \
    }

IRTJ_LN(float, f32)
IRTJ_LN(double, f64)
