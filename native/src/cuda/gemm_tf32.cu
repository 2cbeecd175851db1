// TF32 tensor-core GEMM (WMMA m16n16k8, FP32 accumulation) for sm_80 and newer: 128×128 output
// tiles, 16-deep k slices in shared memory, eight warps each owning a 32×64 sub-tile (2×4
// accumulator fragments). Operands are rounded to TF32 (10-bit mantissa) as they are staged, as
// PyTorch does with allow_tf32; accumulation stays FP32. Batched and strided as gemm.cuh says.
// CPU reference: dev.irtj.tensor.ReferenceBackend.gemm (tested with TF32 tolerances).
#include <mma.h>

#include "gemm.cuh"

using namespace nvcuda;

namespace {
constexpr int BM = 128, BN = 128, BK = 16, THREADS = 256;
// Pitches keep every fragment start 32-byte aligned (WMMA's requirement) and shift successive
// rows across shared-memory banks.
constexpr int A_PITCH = BK + 4, B_PITCH = BN + 4;

struct ToTf32 {
    __device__ __forceinline__ float operator()(float v) const { return wmma::__float_to_tf32(v); }
};
}  // namespace

extern "C" __global__ void __launch_bounds__(256) irtj_gemm_tf32(GemmArgs g, const float* a, const float* b,
                                                                 const float* c0, float* out, double alpha_d,
                                                                 double beta_d) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    __shared__ __align__(32) float as[BM * A_PITCH];
    __shared__ __align__(32) float bs[BK * B_PITCH];
    __shared__ __align__(32) float staging[THREADS / 32][16 * 16];
    float alpha = (float) alpha_d, beta = (float) beta_d;
    int batch = blockIdx.z;
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int warp_row = (warp / 2) * 32, warp_col = (warp % 2) * 64;

    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][4];
#pragma unroll
    for (int r = 0; r < 2; r++)
#pragma unroll
        for (int c = 0; c < 4; c++) wmma::fill_fragment(acc[r][c], 0.0f);

    int a_off = g.a_off + batch * g.a_bs, b_off = g.b_off + batch * g.b_bs;
    for (int k0 = 0; k0 < g.k; k0 += BK) {
        load_tile<float, BM, BK, THREADS>(as, A_PITCH, a, a_off, g.a_rs, g.a_cs, row0, k0, g.m, g.k, ToTf32());
        load_tile<float, BK, BN, THREADS>(bs, B_PITCH, b, b_off, g.b_rs, g.b_cs, k0, col0, g.k, g.n, ToTf32());
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[4];
#pragma unroll
            for (int r = 0; r < 2; r++) wmma::load_matrix_sync(fa[r], as + (warp_row + 16 * r) * A_PITCH + kk, A_PITCH);
#pragma unroll
            for (int c = 0; c < 4; c++) wmma::load_matrix_sync(fb[c], bs + kk * B_PITCH + warp_col + 16 * c, B_PITCH);
#pragma unroll
            for (int r = 0; r < 2; r++)
#pragma unroll
                for (int c = 0; c < 4; c++) wmma::mma_sync(acc[r][c], fa[r], fb[c], acc[r][c]);
        }
        __syncthreads();
    }
    // Fragments have an opaque register layout: each goes through the warp's 16×16 staging
    // square, from which lanes apply α/β and the bounds.
    float* stage = staging[warp];
#pragma unroll
    for (int r = 0; r < 2; r++) {
#pragma unroll
        for (int c = 0; c < 4; c++) {
            wmma::store_matrix_sync(stage, acc[r][c], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                int i = row0 + warp_row + 16 * r + e / 16, j = col0 + warp_col + 16 * c + e % 16;
                store_output<float>(g, batch, i, j, stage[e], alpha, c0, beta, out);
            }
            __syncwarp();
        }
    }
#else
    // Tensor-core TF32 needs sm_80; CudaBackend only selects this kernel on such devices.
    __trap();
#endif
}
