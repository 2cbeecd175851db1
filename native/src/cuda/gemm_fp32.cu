// Exact GEMM (FP32 with FP32 accumulation, and FP64): 128×128 output tiles, 8-deep k slices
// staged in shared memory, an 8×8 register tile per thread; batched through gridDim.z, either
// operand transposed or arbitrarily strided (see gemm.cuh).
// CPU reference: dev.irtj.tensor.ReferenceBackend.gemm.
#include "gemm.cuh"

namespace {
constexpr int BM = 128, BN = 128, BK = 8, THREADS = 256, TM = 8, TN = 8;

struct Identity {
    template <typename T>
    __device__ __forceinline__ T operator()(T v) const { return v; }
};
}  // namespace

// Thread (ty, tx) of a 16×16 grid owns rows ty + 16·r and columns tx + 16·c of the tile: a warp
// then reads two broadcast A values and 16 consecutive B values per step (no bank conflicts),
// and its stores of a row segment coalesce.
template <typename T>
__device__ void gemm_tiled(GemmArgs g, const T* a, const T* b, const T* c0, T* out, T alpha, T beta) {
    __shared__ T as[BM * BK];  // [i][p], pitch BK
    __shared__ T bs[BK * BN];  // [p][j], pitch BN
    int batch = blockIdx.z;
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    T acc[TM][TN];
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < TN; c++) acc[r][c] = T(0);
    int a_off = g.a_off + batch * g.a_bs, b_off = g.b_off + batch * g.b_bs;
    for (int k0 = 0; k0 < g.k; k0 += BK) {
        load_tile<T, BM, BK, THREADS>(as, BK, a, a_off, g.a_rs, g.a_cs, row0, k0, g.m, g.k, Identity());
        load_tile<T, BK, BN, THREADS>(bs, BN, b, b_off, g.b_rs, g.b_cs, k0, col0, g.k, g.n, Identity());
        __syncthreads();
#pragma unroll
        for (int p = 0; p < BK; p++) {
            T av[TM], bv[TN];
#pragma unroll
            for (int r = 0; r < TM; r++) av[r] = as[(ty + 16 * r) * BK + p];
#pragma unroll
            for (int c = 0; c < TN; c++) bv[c] = bs[p * BN + tx + 16 * c];
#pragma unroll
            for (int r = 0; r < TM; r++)
#pragma unroll
                for (int c = 0; c < TN; c++) acc[r][c] = fma(av[r], bv[c], acc[r][c]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < TN; c++) store_output<T>(g, batch, row0 + ty + 16 * r, col0 + tx + 16 * c, acc[r][c], alpha, c0, beta, out);
}

extern "C" __global__ void __launch_bounds__(256) irtj_gemm_f32(GemmArgs g, const float* a, const float* b,
                                                                const float* c0, float* out, double alpha,
                                                                double beta) {
    gemm_tiled<float>(g, a, b, c0, out, (float) alpha, (float) beta);
}

extern "C" __global__ void __launch_bounds__(256) irtj_gemm_f64(GemmArgs g, const double* a, const double* b,
                                                                const double* c0, double* out, double alpha,
                                                                double beta) {
    gemm_tiled<double>(g, a, b, c0, out, alpha, beta);
}
