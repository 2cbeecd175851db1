// Host stand-in for CUDA's <mma.h> (see ../cuda_shim.h): the WMMA calls gemm_tf32.cu uses, with
// each lane holding the whole fragment as a plain matrix. Loads and MMAs are done by every lane
// (identical results); stores by lane 0 only, and the kernel's __syncwarp orders them.
#pragma once

#include <cstdint>
#include <cstring>

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}
enum layout_t { mem_row_major, mem_col_major };

// x[] and num_elements are the element view the kernels round to TF32 through; here every
// lane's fragment is the whole 16×16 matrix.
template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    static constexpr int num_elements = 256;
    union {
        float m[16][16] = {};
        float x[256];
    };
};

// cvt.rna.tf32.f32: keep 10 mantissa bits, rounding to nearest with ties away from zero.
inline float __float_to_tf32(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    u = (u + 0x1000u) & 0xffffe000u;
    std::memcpy(&v, &u, 4);
    return v;
}

template <int M, int N, int K, class T>
inline void load_matrix_sync(fragment<matrix_a, M, N, K, T, row_major>& f, const float* p, unsigned ldm) {
    for (int r = 0; r < M; r++)
        for (int c = 0; c < K; c++) f.m[r][c] = p[r * ldm + c];
}

template <int M, int N, int K, class T>
inline void load_matrix_sync(fragment<matrix_b, M, N, K, T, row_major>& f, const float* p, unsigned ldm) {
    for (int r = 0; r < K; r++)
        for (int c = 0; c < N; c++) f.m[r][c] = p[r * ldm + c];
}

template <int M, int N, int K>
inline void fill_fragment(fragment<accumulator, M, N, K, float>& f, float v) {
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) f.m[r][c] = v;
}

template <int M, int N, int K, class T>
inline void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, row_major>& a,
                     const fragment<matrix_b, M, N, K, T, row_major>& b, const fragment<accumulator, M, N, K, float>& c) {
    float r[16][16];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = c.m[i][j];
            for (int k = 0; k < K; k++) s += a.m[i][k] * b.m[k][j];
            r[i][j] = s;
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) d.m[i][j] = r[i][j];
}

template <int M, int N, int K>
inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
    if (threadIdx.x % 32 != 0) return;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) p[layout == mem_row_major ? i * ldm + j : j * ldm + i] = f.m[i][j];
}
}  // namespace wmma
}  // namespace nvcuda
