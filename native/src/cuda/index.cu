// Index ops: index_select and gather, and their adjoints index_add and scatter_add. The adjoints
// are written as gathers (each output element sums its contributions in index order), so they
// are deterministic without atomics and match the reference's summation order.
// CPU reference: dev.irtj.tensor.ReferenceBackend.indexSelect, gather, indexAdd, scatterAdd.
// Indices are I64 and already checked against their bound by CudaBackend.
#include "common.cuh"

// Coordinates of row-major element `linear` of `shape`.
__device__ __forceinline__ void coords_of(int linear, const Strided& shape, int* c) {
    for (int d = shape.rank - 1; d >= 0; d--) {
        int n = shape.shape[d];
        c[d] = linear % n;
        linear /= n;
    }
}

__device__ __forceinline__ int offset_of(const Strided& s, const int* c) {
    int pos = s.offset;
    for (int d = 0; d < s.rank; d++) pos += c[d] * s.stride[d];
    return pos;
}

// xs: x's strides with the output's shape. out[c] = x[c with c[dim] = index[c[dim]]].
template <typename T>
__device__ void index_select(const T* x, Strided xs, int dim, const long long* index, Strided is, T* out, int n) {
    int c[IRTJ_MAX_RANK];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, xs, c);
        c[dim] = (int) index[strided_offset(is, c[dim])];
        out[i] = x[offset_of(xs, c)];
    }
}

// xs: x's strides with the index's shape. out[c] = x[c with c[dim] = index[c]].
template <typename T>
__device__ void gather(const T* x, Strided xs, int dim, const long long* index, Strided is, T* out, int n) {
    int c[IRTJ_MAX_RANK];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, xs, c);
        c[dim] = (int) index[strided_offset(is, i)];
        out[i] = x[offset_of(xs, c)];
    }
}

// out (contiguous, shape os) [c] = Σ_k src[c with c[dim] = k] over k with index[k] == c[dim];
// ss: src's strides with its own shape (os except along dim, where it is the index length).
template <typename T>
__device__ void index_add(Strided os, int dim, const long long* index, Strided is, int count, const T* src, Strided ss,
                          T* out, int n) {
    int c[IRTJ_MAX_RANK];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, os, c);
        int target = c[dim];
        T s = T(0);
        for (int k = 0; k < count; k++) {
            if (index[strided_offset(is, k)] == target) {
                c[dim] = k;
                s += src[offset_of(ss, c)];
            }
        }
        out[i] = s;
    }
}

// out (contiguous, shape os) [c] = Σ_k src[c with c[dim] = k] over k with index[c with c[dim] = k]
// == c[dim]; is and ss carry the index's shape (no larger than os outside dim).
template <typename T>
__device__ void scatter_add(Strided os, int dim, const long long* index, Strided is, const T* src, Strided ss, T* out,
                            int n) {
    int c[IRTJ_MAX_RANK];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, os, c);
        T s = T(0);
        bool inside = true;
        for (int d = 0; d < os.rank; d++) {
            if (d != dim && c[d] >= is.shape[d]) inside = false;
        }
        if (inside) {
            int target = c[dim];
            for (int k = 0; k < is.shape[dim]; k++) {
                c[dim] = k;
                if (index[offset_of(is, c)] == target) s += src[offset_of(ss, c)];
            }
        }
        out[i] = s;
    }
}

#define IRTJ_INDEX(T, SUF)                                                                                   \
    extern "C" __global__ void irtj_index_select_##SUF(const T* x, Strided xs, int dim,                      \
                                                       const long long* index, Strided is, T* out, int n) {  \
        index_select<T>(x, xs, dim, index, is, out, n);                                                      \
    }                                                                                                        \
    extern "C" __global__ void irtj_gather_##SUF(const T* x, Strided xs, int dim, const long long* index,    \
                                                 Strided is, T* out, int n) {                                \
        gather<T>(x, xs, dim, index, is, out, n);                                                            \
    }                                                                                                        \
    extern "C" __global__ void irtj_index_add_##SUF(Strided os, int dim, const long long* index, Strided is, \
                                                    int count, const T* src, Strided ss, T* out, int n) {    \
        index_add<T>(os, dim, index, is, count, src, ss, out, n);                                            \
    }                                                                                                        \
    extern "C" __global__ void irtj_scatter_add_##SUF(Strided os, int dim, const long long* index,           \
                                                      Strided is, const T* src, Strided ss, T* out, int n) { \
        scatter_add<T>(os, dim, index, is, src, ss, out, n);                                                 \
    }

IRTJ_INDEX(float, f32)
IRTJ_INDEX(double, f64)
IRTJ_INDEX(long long, i64)
