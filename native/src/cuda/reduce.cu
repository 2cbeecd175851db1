// Reductions: sum/mean/max/min of each contiguous row, sum/mean over leading rows (column sums,
// e.g. a bias gradient) in two deterministic passes, and argmax/argmin of each row.
// CPU reference: dev.irtj.tensor.ReferenceBackend.reduce and argReduce (NaN propagates through
// max/min; arg-reductions return the first NaN, else the first extreme on ties).
// Op codes are the ordinals of dev.irtj.tensor.ReduceOp.
#include "common.cuh"

enum ReduceCode { SUM, MEAN, MAX, MIN };

template <typename T>
__device__ __forceinline__ T pick(int op, T a, T b) {
    if (isnan(a)) return a;
    if (isnan(b)) return b;
    return op == MAX ? (a > b ? a : b) : (a < b ? a : b);
}

// One block per row of `len` elements; out[row] gets the reduction.
template <typename T>
__device__ void reduce_rows(int op, const T* x, T* out, int len) {
    __shared__ T scratch[32];
    const T* row = x + (size_t) blockIdx.x * len;
    if (op == SUM || op == MEAN) {
        T s = T(0);
        for (int j = threadIdx.x; j < len; j += blockDim.x) s += row[j];
        s = block_sum(s, scratch);
        if (threadIdx.x == 0) out[blockIdx.x] = op == MEAN ? s / T(len) : s;
        return;
    }
    T acc = op == MAX ? T(-INFINITY) : T(INFINITY);
    for (int j = threadIdx.x; j < len; j += blockDim.x) acc = pick(op, acc, row[j]);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) acc = pick(op, acc, __shfl_xor_sync(0xffffffffu, acc, o));
    if (lane == 0) scratch[warp] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        T r = scratch[0];
        for (int w = 1; w < warps; w++) r = pick(op, r, scratch[w]);
        out[blockIdx.x] = r;
    }
}

// Pass 1 of a sum over the leading `rows` of a contiguous [rows, cols] block: blockIdx.y is a
// chunk of rows, each thread one column, summed in row order.
template <typename T>
__device__ void sum_columns_partial(const T* x, int rows, int cols, int chunk_rows, T* partial) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    int r0 = blockIdx.y * chunk_rows, r1 = min(rows, r0 + chunk_rows);
    T s = T(0);
    for (int r = r0; r < r1; r++) s += x[(size_t) r * cols + col];
    partial[(size_t) blockIdx.y * cols + col] = s;
}

// Pass 2: chunk sums in chunk order, divided by `divisor` (rows for a mean, 1 for a sum).
template <typename T>
__device__ void sum_columns_finish(const T* partial, int chunks, int cols, T divisor, T* out) {
    GRID_STRIDE_LOOP(col, cols) {
        T s = T(0);
        for (int c = 0; c < chunks; c++) s += partial[(size_t) c * cols + col];
        out[col] = s / divisor;
    }
}

// (value, index) winner of two candidates: NaN first, then the extreme, then the lower index.
template <typename T>
__device__ __forceinline__ bool first_wins(int op, T va, int ia, T vb, int ib) {
    bool na = isnan(va), nb = isnan(vb);
    if (na || nb) return na && nb ? ia < ib : na;
    if (va == vb) return ia < ib;
    return op == MAX ? va > vb : va < vb;
}

template <typename T>
__device__ void arg_reduce_rows(int op, const T* x, long long* out, int len) {
    __shared__ T sv[32];
    __shared__ int si[32];
    const T* row = x + (size_t) blockIdx.x * len;
    T best = T(0);
    int bi = -1;
    for (int j = threadIdx.x; j < len; j += blockDim.x) {
        T v = row[j];
        if (bi < 0 || first_wins(op, v, j, best, bi)) { best = v; bi = j; }
    }
    for (int o = 16; o > 0; o >>= 1) {
        T ov = __shfl_xor_sync(0xffffffffu, best, o);
        int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && (bi < 0 || first_wins(op, ov, oi, best, bi))) { best = ov; bi = oi; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = bi; }
    __syncthreads();
    if (threadIdx.x == 0) {
        T b = sv[0];
        int i = si[0];
        for (int w = 1; w < warps; w++) {
            if (si[w] >= 0 && (i < 0 || first_wins(op, sv[w], si[w], b, i))) { b = sv[w]; i = si[w]; }
        }
        out[blockIdx.x] = i;
    }
}

#define IRTJ_REDUCE(T, SUF)                                                                                  \
    extern "C" __global__ void irtj_reduce_rows_##SUF(int op, const T* x, T* out, int len) {                 \
        reduce_rows<T>(op, x, out, len);                                                                     \
    }                                                                                                        \
    extern "C" __global__ void irtj_sum_columns_partial_##SUF(const T* x, int rows, int cols,                \
                                                              int chunk_rows, T* partial) {                  \
        sum_columns_partial<T>(x, rows, cols, chunk_rows, partial);                                          \
    }                                                                                                        \
    extern "C" __global__ void irtj_sum_columns_finish_##SUF(const T* partial, int chunks, int cols,         \
                                                             double divisor, T* out) {                       \
        sum_columns_finish<T>(partial, chunks, cols, T(divisor), out);                                       \
    }                                                                                                        \
    extern "C" __global__ void irtj_arg_reduce_rows_##SUF(int op, const T* x, long long* out, int len) {      \
        arg_reduce_rows<T>(op, x, out, len);                                                                 \
    }

IRTJ_REDUCE(float, f32)
IRTJ_REDUCE(double, f64)
