// Top-k of each row (largest first), for exact k-NN over a similarity matrix; one block per row.
// Round r selects the best element strictly after the previous pick in the order
// (value descending, index ascending), so ties resolve to the lower index and no per-row buffer
// is needed; cost O(k·n/blockDim) per row, meant for k up to a few thousand.
// CPU reference: dev.irtj.tensor.ReferenceBackend.topk, a stable sort of each row in
// TopKPlan's order (value descending, ties and -0/+0 to the lower index, NaN after every number).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ bool before(T va, int ia, T vb, int ib) {
    bool nan_a = va != va, nan_b = vb != vb;
    if (nan_a || nan_b) return nan_a == nan_b ? ia < ib : nan_b;
    return va > vb || (va == vb && ia < ib);
}

template <typename T>
__device__ void topk_rows(const T* x, int n, int k, T* values, long long* indices) {
    __shared__ T sv[32];
    __shared__ int si[32];
    __shared__ T prev_v;
    __shared__ int prev_i;
    const T* row = x + (size_t) blockIdx.x * n;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int r = 0; r < k; r++) {
        T best = T(0);
        int bi = -1;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            T v = row[j];
            bool after_prev = r == 0 || before(prev_v, prev_i, v, j);
            if (after_prev && (bi < 0 || before(v, j, best, bi))) { best = v; bi = j; }
        }
        for (int o = 16; o > 0; o >>= 1) {
            T ov = __shfl_xor_sync(0xffffffffu, best, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (oi >= 0 && (bi < 0 || before(ov, oi, best, bi))) { best = ov; bi = oi; }
        }
        if (lane == 0) { sv[warp] = best; si[warp] = bi; }
        __syncthreads();
        if (threadIdx.x == 0) {
            T b = sv[0];
            int i = si[0];
            for (int w = 1; w < warps; w++) {
                if (si[w] >= 0 && (i < 0 || before(sv[w], si[w], b, i))) { b = sv[w]; i = si[w]; }
            }
            values[(size_t) blockIdx.x * k + r] = b;
            indices[(size_t) blockIdx.x * k + r] = i;
            prev_v = b;
            prev_i = i;
        }
        __syncthreads();
    }
}

extern "C" __global__ void irtj_topk_rows_f32(const float* x, int n, int k, float* values, long long* indices) {
    topk_rows<float>(x, n, k, values, indices);
}

extern "C" __global__ void irtj_topk_rows_f64(const double* x, int n, int k, double* values, long long* indices) {
    topk_rows<double>(x, n, k, values, indices);
}
