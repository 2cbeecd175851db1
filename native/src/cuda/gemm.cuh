// Shared by the two GEMM families: the argument block, the split-K slicing, the tile loads
// (plain and, on sm_80+, asynchronous) and the epilogues.
// C[b] = alpha · op(A)[b] · op(B)[b] + beta · C0[b], every operand addressed through explicit
// row, column and batch strides, so transposed, permuted and broadcast operands (stride 0) need
// no copy. The output is contiguous [batch, m, n].
#pragma once

#include "common.cuh"

// The two-stage cp.async pipeline needs sm_80's asynchronous copies. IRTJ_PLAIN_LOADS forces the
// synchronous path (the host emulation builds both).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800 && !defined(IRTJ_PLAIN_LOADS)
#define IRTJ_ASYNC_LOADS 1
#include <cuda_pipeline.h>
#else
#define IRTJ_ASYNC_LOADS 0
#endif

// Laid out by CudaBackend as 16 ints in this order.
struct GemmArgs {
    int m, n, k, batch;
    int a_off, a_rs, a_cs, a_bs;  // op(A)[b][i][p] = A[a_off + b·a_bs + i·a_rs + p·a_cs]
    int b_off, b_rs, b_cs, b_bs;  // op(B)[b][p][j] = B[b_off + b·b_bs + p·b_rs + j·b_cs]
    int c_off, c_rs, c_cs, c_bs;  // C0[b][i][j]     = C0[c_off + b·c_bs + i·c_rs + j·c_cs]
};

// What one block computes along k. Split-K launches gridDim.z = batch · splits blocks deep, block
// z taking batch entry z mod batch and k range [s·k_chunk, min(k, (s+1)·k_chunk)) for s = z / batch;
// without split-K, k_chunk = k and z is the batch entry.
struct KSlice {
    int batch, split, k_begin, k_end;
};

__device__ __forceinline__ KSlice k_slice(const GemmArgs& g, int k_chunk) {
    int z = blockIdx.z;
    KSlice s;
    s.batch = z % g.batch;
    s.split = z / g.batch;
    s.k_begin = s.split * k_chunk;
    s.k_end = min(g.k, s.k_begin + k_chunk);
    return s;
}

// The plain load's element conversion when none is wanted.
struct Identity {
    template <typename T>
    __device__ __forceinline__ T operator()(T v) const { return v; }
};

// Where element e (0 .. ROWS·COLS-1) of a tile goes. When the operand's rows are contiguous in
// global memory (a transposed operand), a warp takes 8 consecutive rows × 4 columns: its global
// reads are four full 32-byte sectors, and with a pitch of 4·odd floats its 32 shared stores fall
// on 32 distinct banks (pitch·r mod 32 is a distinct multiple of 4 for r = 0..7, plus c = 0..3).
// Otherwise a warp walks along a row, which is contiguous in both memories. ROWS and COLS are
// powers of two, so the divisions are shifts.
template <int ROWS, int COLS>
__device__ __forceinline__ void tile_coords(int e, bool rows_contiguous, int& r, int& c) {
    static_assert(ROWS % 8 == 0 && COLS % 4 == 0, "tiles are walked in 8×4 patches");
    if (rows_contiguous) {
        int lane = e & 31, group = e >> 5;
        r = (group % (ROWS / 8)) * 8 + (lane & 7);
        c = (group / (ROWS / 8)) * 4 + (lane >> 3);
    } else {
        r = e / COLS;
        c = e % COLS;
    }
}

// Loads a rows×cols tile of a strided matrix into shared memory laid out [row][col] with row
// pitch `pitch`; out-of-range elements become 0.
template <typename T, int ROWS, int COLS, int THREADS, typename Convert>
__device__ __forceinline__ void load_tile(T* tile, int pitch, const T* src, int off, int rs, int cs, int row0, int col0,
                                          int row_limit, int col_limit, Convert convert) {
    static_assert(ROWS * COLS % THREADS == 0, "every thread loads the same number of elements");
    constexpr int PER_THREAD = ROWS * COLS / THREADS;
    bool rows_contiguous = rs == 1 && cs != 1;
#pragma unroll
    for (int l = 0; l < PER_THREAD; l++) {
        int r, c;
        tile_coords<ROWS, COLS>(threadIdx.x + l * THREADS, rows_contiguous, r, c);
        int gr = row0 + r, gc = col0 + c;
        T v = T(0);
        if (gr < row_limit && gc < col_limit) v = src[off + gr * rs + gc * cs];
        tile[r * pitch + c] = convert(v);
    }
}

#if IRTJ_ASYNC_LOADS
// As load_tile, but each element is an asynchronous copy (cp.async of 4 or 8 bytes, so any
// stride and alignment works); out-of-range elements are zero-filled without a global read. The
// caller commits the batch (__pipeline_commit) and waits for it before reading the tile.
template <typename T, int ROWS, int COLS, int THREADS>
__device__ __forceinline__ void load_tile_async(T* tile, int pitch, const T* src, int off, int rs, int cs, int row0, int col0,
                                                int row_limit, int col_limit) {
    static_assert(ROWS * COLS % THREADS == 0, "every thread loads the same number of elements");
    constexpr int PER_THREAD = ROWS * COLS / THREADS;
    bool rows_contiguous = rs == 1 && cs != 1;
#pragma unroll
    for (int l = 0; l < PER_THREAD; l++) {
        int r, c;
        tile_coords<ROWS, COLS>(threadIdx.x + l * THREADS, rows_contiguous, r, c);
        int gr = row0 + r, gc = col0 + c;
        bool inside = gr < row_limit && gc < col_limit;
        const T* from = inside ? src + off + gr * rs + gc * cs : src;
        __pipeline_memcpy_async(tile + r * pitch + c, from, sizeof(T), inside ? 0 : sizeof(T));
    }
}
#endif

template <typename T>
__device__ __forceinline__ void store_output(const GemmArgs& g, int b, int i, int j, T acc, T alpha, const T* c0,
                                             T beta, T* out) {
    if (i >= g.m || j >= g.n) return;
    T v = alpha * acc;
    if (c0 && beta != T(0)) v += beta * c0[g.c_off + b * g.c_bs + i * g.c_rs + j * g.c_cs];
    out[((size_t) b * g.m + i) * g.n + j] = v;
}

// Split-K's first pass: the raw partial sum of one k slice, at [split][b][i][j] of the workspace.
template <typename T>
__device__ __forceinline__ void store_partial(const GemmArgs& g, const KSlice& s, int i, int j, T acc, T* partial) {
    if (i >= g.m || j >= g.n) return;
    partial[(((size_t) s.split * g.batch + s.batch) * g.m + i) * g.n + j] = acc;
}

// Split-K's second pass: out = alpha · Σ_s partial[s] + beta · C0, the splits added in order
// s = 0, 1, ..., so the result is the same bits on every run (no atomics).
template <typename T>
__device__ __forceinline__ void splitk_reduce(const GemmArgs& g, int splits, const T* partial, const T* c0, T* out, T alpha,
                                              T beta) {
    size_t per_split = (size_t) g.batch * g.m * g.n, mn = (size_t) g.m * g.n;
    for (size_t e = (size_t) blockIdx.x * blockDim.x + threadIdx.x; e < per_split; e += (size_t) blockDim.x * gridDim.x) {
        T acc = partial[e];
        for (int s = 1; s < splits; s++) acc += partial[s * per_split + e];
        int b = (int) (e / mn), rem = (int) (e % mn);
        store_output<T>(g, b, rem / g.n, rem % g.n, acc, alpha, c0, beta, out);
    }
}
