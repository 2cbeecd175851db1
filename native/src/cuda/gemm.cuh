// Shared by the two GEMM families: the argument block and the epilogue.
// C[b] = alpha · op(A)[b] · op(B)[b] + beta · C0[b], every operand addressed through explicit
// row, column and batch strides, so transposed, permuted and broadcast operands (stride 0) need
// no copy. The output is contiguous [batch, m, n].
#pragma once

#include "common.cuh"

// Laid out by CudaBackend as 16 ints in this order.
struct GemmArgs {
    int m, n, k, batch;
    int a_off, a_rs, a_cs, a_bs;  // op(A)[b][i][p] = A[a_off + b·a_bs + i·a_rs + p·a_cs]
    int b_off, b_rs, b_cs, b_bs;  // op(B)[b][p][j] = B[b_off + b·b_bs + p·b_rs + j·b_cs]
    int c_off, c_rs, c_cs, c_bs;  // C0[b][i][j]     = C0[c_off + b·c_bs + i·c_rs + j·c_cs]
};

// Loads a rows×cols tile of a strided matrix into shared memory laid out [row][col] with row
// pitch `pitch`; out-of-range elements become 0. The walk order follows whichever index is
// contiguous in global memory, so a warp's loads coalesce for both plain and transposed operands.
template <typename T, int ROWS, int COLS, int THREADS, typename Convert>
__device__ __forceinline__ void load_tile(T* tile, int pitch, const T* src, int off, int rs, int cs, int row0, int col0,
                                          int row_limit, int col_limit, Convert convert) {
    constexpr int PER_THREAD = ROWS * COLS / THREADS;
    bool rows_contiguous = rs == 1 && cs != 1;
#pragma unroll
    for (int l = 0; l < PER_THREAD; l++) {
        int e = threadIdx.x + l * THREADS;
        int r, c;
        if (rows_contiguous) {
            r = e % ROWS;
            c = e / ROWS;
        } else {
            r = e / COLS;
            c = e % COLS;
        }
        int gr = row0 + r, gc = col0 + c;
        T v = T(0);
        if (gr < row_limit && gc < col_limit) v = src[off + gr * rs + gc * cs];
        tile[r * pitch + c] = convert(v);
    }
}

template <typename T>
__device__ __forceinline__ void store_output(const GemmArgs& g, int b, int i, int j, T acc, T alpha, const T* c0,
                                             T beta, T* out) {
    if (i >= g.m || j >= g.n) return;
    T v = alpha * acc;
    if (c0 && beta != T(0)) v += beta * c0[g.c_off + b * g.c_bs + i * g.c_rs + j * g.c_cs];
    out[((size_t) b * g.m + i) * g.n + j] = v;
}
