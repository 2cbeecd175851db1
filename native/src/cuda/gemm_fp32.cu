// Exact GEMM (FP32 with FP32 accumulation, and FP64): 128×128 output tiles, 8-deep k slices
// staged in shared memory (two stages filled by cp.async on sm_80+, so the next slice loads
// while this one is multiplied), an 8×8 register tile per thread; batched through gridDim.z,
// either operand transposed or arbitrarily strided (see gemm.cuh). Split-K for long k and small
// outputs: irtj_gemm_splitk_* writes each k slice's partial product to a workspace and
// irtj_gemm_splitk_reduce_* adds them in a fixed order (CudaGemm.splitK chooses the slices).
// CPU reference: dev.irtj.tensor.ReferenceBackend.gemm.
#include "gemm.cuh"

namespace {
constexpr int BM = 128, BN = 128, BK = 8, THREADS = 256, TM = 8, TN = 8;
// Pitches of 4·odd floats: transposed operands' stores are conflict-free (see tile_coords), and
// the reads below stay so (A: two rows 12 apart per warp; B: 16 consecutive columns).
constexpr int A_PITCH = BK + 4, B_PITCH = BN + 4;
constexpr int STAGES = IRTJ_ASYNC_LOADS ? 2 : 1;
}  // namespace

// One BK-deep slice: thread (ty, tx) of a 16×16 grid owns rows ty + 16·r and columns tx + 16·c
// of the tile: a warp then reads two broadcast A values and 16 consecutive B values per step,
// and its stores of a row segment coalesce.
template <typename T>
__device__ __forceinline__ void multiply_slice(const T* as, const T* bs, int tx, int ty, T (&acc)[TM][TN]) {
#pragma unroll
    for (int p = 0; p < BK; p++) {
        T av[TM], bv[TN];
#pragma unroll
        for (int r = 0; r < TM; r++) av[r] = as[(ty + 16 * r) * A_PITCH + p];
#pragma unroll
        for (int c = 0; c < TN; c++) bv[c] = bs[p * B_PITCH + tx + 16 * c];
#pragma unroll
        for (int r = 0; r < TM; r++)
#pragma unroll
            for (int c = 0; c < TN; c++) acc[r][c] = fma(av[r], bv[c], acc[r][c]);
    }
}

// PARTIAL: write the raw sum of this block's k slice to the split-K workspace `out`.
template <typename T, bool PARTIAL>
__device__ void gemm_tiled(GemmArgs g, int k_chunk, const T* a, const T* b, const T* c0, T* out, T alpha, T beta) {
    __shared__ T as[STAGES][BM * A_PITCH];  // [i][p]
    __shared__ T bs[STAGES][BK * B_PITCH];  // [p][j]
    KSlice s = k_slice(g, k_chunk);
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    T acc[TM][TN];
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < TN; c++) acc[r][c] = T(0);
    int a_off = g.a_off + s.batch * g.a_bs, b_off = g.b_off + s.batch * g.b_bs;
#if IRTJ_ASYNC_LOADS
    // Stage t % 2 holds slice t; slice t + 1 is in flight while slice t is multiplied.
    int slices = (s.k_end - s.k_begin + BK - 1) / BK;
    if (slices > 0) {
        load_tile_async<T, BM, BK, THREADS>(as[0], A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, s.k_begin, g.m, s.k_end);
        load_tile_async<T, BK, BN, THREADS>(bs[0], B_PITCH, b, b_off, g.b_rs, g.b_cs, s.k_begin, col0, s.k_end, g.n);
    }
    __pipeline_commit();
    for (int t = 0; t < slices; t++) {
        if (t + 1 < slices) {
            int k1 = s.k_begin + (t + 1) * BK, next = (t + 1) & 1;
            load_tile_async<T, BM, BK, THREADS>(as[next], A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, k1, g.m, s.k_end);
            load_tile_async<T, BK, BN, THREADS>(bs[next], B_PITCH, b, b_off, g.b_rs, g.b_cs, k1, col0, s.k_end, g.n);
        }
        __pipeline_commit();
        __pipeline_wait_prior(1);  // every batch but the newest has landed: slice t is in place
        __syncthreads();
        multiply_slice<T>(as[t & 1], bs[t & 1], tx, ty, acc);
        __syncthreads();  // before the next iteration refills this stage
    }
#else
    for (int k0 = s.k_begin; k0 < s.k_end; k0 += BK) {
        load_tile<T, BM, BK, THREADS>(as[0], A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, k0, g.m, s.k_end, Identity());
        load_tile<T, BK, BN, THREADS>(bs[0], B_PITCH, b, b_off, g.b_rs, g.b_cs, k0, col0, s.k_end, g.n, Identity());
        __syncthreads();
        multiply_slice<T>(as[0], bs[0], tx, ty, acc);
        __syncthreads();
    }
#endif
    if (PARTIAL) {
#pragma unroll
        for (int r = 0; r < TM; r++)
#pragma unroll
            for (int c = 0; c < TN; c++) store_partial<T>(g, s, row0 + ty + 16 * r, col0 + tx + 16 * c, acc[r][c], out);
        return;
    }
    // Loop-invariant parts of the epilogue's addresses, hoisted so the unrolled stores need no
    // more live registers than the accumulators they consume.
    const T* c0_batch = c0 && beta != T(0) ? c0 + g.c_off + s.batch * g.c_bs : nullptr;
    T* out_batch = out + (size_t) s.batch * g.m * g.n;
#pragma unroll
    for (int r = 0; r < TM; r++) {
        int i = row0 + ty + 16 * r;
        if (i >= g.m) break;
#pragma unroll
        for (int c = 0; c < TN; c++) {
            int j = col0 + tx + 16 * c;
            if (j < g.n) {
                T v = alpha * acc[r][c];
                if (c0_batch) v += beta * c0_batch[i * g.c_rs + j * g.c_cs];
                out_batch[(size_t) i * g.n + j] = v;
            }
        }
    }
}

// FP32 at two blocks per SM (128 registers a thread at most); FP64's 64 double accumulators
// alone take 128 registers, so it keeps one.
extern "C" __global__ void __launch_bounds__(256, 2) irtj_gemm_f32(GemmArgs g, const float* a, const float* b,
                                                                   const float* c0, float* out, double alpha,
                                                                   double beta) {
    gemm_tiled<float, false>(g, g.k, a, b, c0, out, (float) alpha, (float) beta);
}

extern "C" __global__ void __launch_bounds__(256) irtj_gemm_f64(GemmArgs g, const double* a, const double* b,
                                                                const double* c0, double* out, double alpha,
                                                                double beta) {
    gemm_tiled<double, false>(g, g.k, a, b, c0, out, alpha, beta);
}

extern "C" __global__ void __launch_bounds__(256, 2) irtj_gemm_splitk_f32(GemmArgs g, int k_chunk, const float* a,
                                                                          const float* b, float* partial) {
    gemm_tiled<float, true>(g, k_chunk, a, b, nullptr, partial, 1.0f, 0.0f);
}

extern "C" __global__ void __launch_bounds__(256) irtj_gemm_splitk_f64(GemmArgs g, int k_chunk, const double* a,
                                                                       const double* b, double* partial) {
    gemm_tiled<double, true>(g, k_chunk, a, b, nullptr, partial, 1.0, 0.0);
}

// The split-K sum for either GEMM family (the TF32 kernel's partials are FP32 too).
extern "C" __global__ void irtj_gemm_splitk_reduce_f32(GemmArgs g, int splits, const float* partial, const float* c0,
                                                       float* out, double alpha, double beta) {
    splitk_reduce<float>(g, splits, partial, c0, out, (float) alpha, (float) beta);
}

extern "C" __global__ void irtj_gemm_splitk_reduce_f64(GemmArgs g, int splits, const double* partial, const double* c0,
                                                       double* out, double alpha, double beta) {
    splitk_reduce<double>(g, splits, partial, c0, out, alpha, beta);
}
