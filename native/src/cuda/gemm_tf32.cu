// TF32 tensor-core GEMM (WMMA m16n16k8, FP32 accumulation) for sm_80 and newer: 128×128 output
// tiles, 16-deep k slices in shared memory (two stages filled by cp.async, see gemm.cuh), eight
// warps each owning a 32×64 sub-tile (2×4 accumulator fragments). Operands are rounded to TF32
// (10-bit mantissa) as their fragments are loaded, as PyTorch does with allow_tf32; accumulation
// stays FP32. Batched and strided as gemm.cuh says; irtj_gemm_tf32_splitk is the split-K first
// pass (its partials are added by gemm_fp32.cu's irtj_gemm_splitk_reduce_f32).
// CPU reference: dev.irtj.tensor.ReferenceBackend.gemm (tested with TF32 tolerances).
#include <mma.h>

#include "gemm.cuh"

using namespace nvcuda;

namespace {
constexpr int BM = 128, BN = 128, BK = 16, THREADS = 256;
// Pitches keep every fragment start 32-byte aligned (WMMA's requirement) and are 4·odd floats,
// so transposed operands' stores are conflict-free (see tile_coords).
constexpr int A_PITCH = BK + 4, B_PITCH = BN + 4;
constexpr int STAGES = IRTJ_ASYNC_LOADS ? 2 : 1;

template <typename Fragment>
__device__ __forceinline__ void round_to_tf32(Fragment& f) {
#pragma unroll
    for (int t = 0; t < f.num_elements; t++) f.x[t] = wmma::__float_to_tf32(f.x[t]);
}
}  // namespace

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
using AccFragment = wmma::fragment<wmma::accumulator, 16, 16, 8, float>;

// One BK-deep slice of the warp's 32×64 sub-tile.
__device__ __forceinline__ void multiply_slice(const float* as, const float* bs, int warp_row, int warp_col, AccFragment (&acc)[2][4]) {
#pragma unroll
    for (int kk = 0; kk < BK; kk += 8) {
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[4];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            wmma::load_matrix_sync(fa[r], as + (warp_row + 16 * r) * A_PITCH + kk, A_PITCH);
            round_to_tf32(fa[r]);
        }
#pragma unroll
        for (int c = 0; c < 4; c++) {
            wmma::load_matrix_sync(fb[c], bs + kk * B_PITCH + warp_col + 16 * c, B_PITCH);
            round_to_tf32(fb[c]);
        }
#pragma unroll
        for (int r = 0; r < 2; r++)
#pragma unroll
            for (int c = 0; c < 4; c++) wmma::mma_sync(acc[r][c], fa[r], fb[c], acc[r][c]);
    }
}

template <bool PARTIAL>
__device__ void gemm_tf32(GemmArgs g, int k_chunk, const float* a, const float* b, const float* c0, float* out, float alpha,
                          float beta) {
    __shared__ __align__(32) float as[STAGES][BM * A_PITCH];
    __shared__ __align__(32) float bs[STAGES][BK * B_PITCH];
    __shared__ __align__(32) float staging[THREADS / 32][16 * 16];
    KSlice s = k_slice(g, k_chunk);
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int warp_row = (warp / 2) * 32, warp_col = (warp % 2) * 64;

    AccFragment acc[2][4];
#pragma unroll
    for (int r = 0; r < 2; r++)
#pragma unroll
        for (int c = 0; c < 4; c++) wmma::fill_fragment(acc[r][c], 0.0f);

    int a_off = g.a_off + s.batch * g.a_bs, b_off = g.b_off + s.batch * g.b_bs;
#if IRTJ_ASYNC_LOADS
    int slices = (s.k_end - s.k_begin + BK - 1) / BK;
    if (slices > 0) {
        load_tile_async<float, BM, BK, THREADS>(as[0], A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, s.k_begin, g.m, s.k_end);
        load_tile_async<float, BK, BN, THREADS>(bs[0], B_PITCH, b, b_off, g.b_rs, g.b_cs, s.k_begin, col0, s.k_end, g.n);
    }
    __pipeline_commit();
    for (int t = 0; t < slices; t++) {
        if (t + 1 < slices) {
            int k1 = s.k_begin + (t + 1) * BK, next = (t + 1) & 1;
            load_tile_async<float, BM, BK, THREADS>(as[next], A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, k1, g.m, s.k_end);
            load_tile_async<float, BK, BN, THREADS>(bs[next], B_PITCH, b, b_off, g.b_rs, g.b_cs, k1, col0, s.k_end, g.n);
        }
        __pipeline_commit();
        __pipeline_wait_prior(1);
        __syncthreads();
        multiply_slice(as[t & 1], bs[t & 1], warp_row, warp_col, acc);
        __syncthreads();
    }
#else
    for (int k0 = s.k_begin; k0 < s.k_end; k0 += BK) {
        load_tile<float, BM, BK, THREADS>(as[0], A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, k0, g.m, s.k_end, Identity());
        load_tile<float, BK, BN, THREADS>(bs[0], B_PITCH, b, b_off, g.b_rs, g.b_cs, k0, col0, s.k_end, g.n, Identity());
        __syncthreads();
        multiply_slice(as[0], bs[0], warp_row, warp_col, acc);
        __syncthreads();
    }
#endif
    // Fragments have an opaque register layout: each goes through the warp's 16×16 staging
    // square, from which lanes apply α/β and the bounds.
    float* stage = staging[warp];
    // Loop-invariant parts of the addresses, hoisted out of the unrolled fragment loop.
    const float* c0_batch = !PARTIAL && c0 && beta != 0.0f ? c0 + g.c_off + s.batch * g.c_bs : nullptr;
    float* out_batch = out + (PARTIAL ? (size_t) s.split * g.batch + s.batch : (size_t) s.batch) * g.m * g.n;
#pragma unroll
    for (int r = 0; r < 2; r++) {
#pragma unroll
        for (int c = 0; c < 4; c++) {
            wmma::store_matrix_sync(stage, acc[r][c], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                int i = row0 + warp_row + 16 * r + e / 16, j = col0 + warp_col + 16 * c + e % 16;
                if (i < g.m && j < g.n) {
                    float v = PARTIAL ? stage[e] : alpha * stage[e];
                    if (c0_batch) v += beta * c0_batch[i * g.c_rs + j * g.c_cs];
                    out_batch[(size_t) i * g.n + j] = v;
                }
            }
            __syncwarp();
        }
    }
}
#endif

// Two blocks per SM: 128 registers a thread at most.
extern "C" __global__ void __launch_bounds__(256, 2) irtj_gemm_tf32(GemmArgs g, const float* a, const float* b,
                                                                    const float* c0, float* out, double alpha,
                                                                    double beta) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    gemm_tf32<false>(g, g.k, a, b, c0, out, (float) alpha, (float) beta);
#else
    // Tensor-core TF32 needs sm_80; CudaBackend only selects this kernel on such devices.
    __trap();
#endif
}

extern "C" __global__ void __launch_bounds__(256, 2) irtj_gemm_tf32_splitk(GemmArgs g, int k_chunk, const float* a,
                                                                           const float* b, float* partial) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    gemm_tf32<true>(g, k_chunk, a, b, nullptr, partial, 1.0f, 0.0f);
#else
    __trap();
#endif
}
