// Index ops: index_select and gather, and their adjoints index_add and scatter_add. The adjoints
// are written as gathers (each output element sums its contributions in index order), so they
// are deterministic without atomics and match the reference's summation order.
// CPU reference: dev.irtj.tensor.ReferenceBackend.indexSelect, gather, indexAdd, scatterAdd.
// Indices are I64 and checked here, on the device, against their bound: checking them on the host
// would make every index op (the cross-entropy gather of each training step) wait for the
// device. A bad index is never dereferenced; the first one seen is recorded in the launch's error
// slot `err` (err[0] = its position in the index + 1, err[1] = its value), which CudaBackend reads
// at the next point where the host waits for the device anyway and turns into an exception.
#include "common.cuh"

// Records (position, value) of a bad index unless the slot already holds one. Only the winner of
// the compare-and-swap writes the value, so the pair stays consistent; the host reads it only
// after the kernel has finished.
__device__ __forceinline__ void report_bad_index(long long* err, long long position, long long value) {
    unsigned long long* slot = reinterpret_cast<unsigned long long*>(err);
    if (atomicCAS(slot, 0ULL, (unsigned long long) (position + 1)) == 0ULL) err[1] = value;
}

__device__ __forceinline__ bool in_range(long long v, int bound) { return v >= 0 && v < bound; }

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

// Row-major linear position of coordinates c in shape.
__device__ __forceinline__ long long linear_of(const Strided& shape, const int* c) {
    long long pos = 0;
    for (int d = 0; d < shape.rank; d++) pos = pos * shape.shape[d] + c[d];
    return pos;
}

// xs: x's strides with the output's shape; bound: x's size along dim.
// out[c] = x[c with c[dim] = index[c[dim]]] (0 where that index is bad).
template <typename T>
__device__ void index_select(const T* x, Strided xs, int dim, int bound, const long long* index, Strided is, T* out,
                             int n, long long* err) {
    int c[IRTJ_MAX_RANK];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, xs, c);
        int k = c[dim];
        long long v = index[strided_offset(is, k)];
        if (!in_range(v, bound)) {
            report_bad_index(err, k, v);
            out[i] = T(0);
            continue;
        }
        c[dim] = (int) v;
        out[i] = x[offset_of(xs, c)];
    }
}

// xs: x's strides with the index's shape; bound: x's size along dim.
// out[c] = x[c with c[dim] = index[c]] (0 where that index is bad).
template <typename T>
__device__ void gather(const T* x, Strided xs, int dim, int bound, const long long* index, Strided is, T* out, int n,
                       long long* err) {
    int c[IRTJ_MAX_RANK];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, xs, c);
        long long v = index[strided_offset(is, i)];
        if (!in_range(v, bound)) {
            report_bad_index(err, i, v);
            out[i] = T(0);
            continue;
        }
        c[dim] = (int) v;
        out[i] = x[offset_of(xs, c)];
    }
}

// out (contiguous, shape os) [c] = Σ_k src[c with c[dim] = k] over k with index[k] == c[dim];
// ss: src's strides with its own shape (os except along dim, where it is the index length).
// A bad index matches no output element, so it adds nothing; it is reported.
template <typename T>
__device__ void index_add(Strided os, int dim, const long long* index, Strided is, int count, const T* src, Strided ss,
                          T* out, int n, long long* err) {
    int c[IRTJ_MAX_RANK];
    int bound = os.shape[dim];
    GRID_STRIDE_LOOP(i, n) {
        coords_of(i, os, c);
        int target = c[dim];
        T s = T(0);
        for (int k = 0; k < count; k++) {
            long long v = index[strided_offset(is, k)];
            if (!in_range(v, bound)) report_bad_index(err, k, v);
            else if (v == target) {
                c[dim] = k;
                s += src[offset_of(ss, c)];
            }
        }
        out[i] = s;
    }
}

// out (contiguous, shape os) [c] = Σ_k src[c with c[dim] = k] over k with index[c with c[dim] = k]
// == c[dim]; is and ss carry the index's shape (no larger than os outside dim). Every index element
// is read by the threads of its column, so each bad one is seen (and reported) without being used.
template <typename T>
__device__ void scatter_add(Strided os, int dim, const long long* index, Strided is, const T* src, Strided ss, T* out,
                            int n, long long* err) {
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
                long long v = index[offset_of(is, c)];
                if (!in_range(v, os.shape[dim])) report_bad_index(err, linear_of(is, c), v);
                else if (v == target) s += src[offset_of(ss, c)];
            }
        }
        out[i] = s;
    }
}

#define IRTJ_INDEX(T, SUF)                                                                                    \
    extern "C" __global__ void irtj_index_select_##SUF(const T* x, Strided xs, int dim, int bound,                \
                                                       const long long* index, Strided is, T* out, int n,     \
                                                       long long* err) {                                      \
        index_select<T>(x, xs, dim, bound, index, is, out, n, err);                                           \
    }                                                                                                         \
    extern "C" __global__ void irtj_gather_##SUF(const T* x, Strided xs, int dim, int bound,                     \
                                                 const long long* index, Strided is, T* out, int n,           \
                                                 long long* err) {                                            \
        gather<T>(x, xs, dim, bound, index, is, out, n, err);                                                 \
    }                                                                                                         \
    extern "C" __global__ void irtj_index_add_##SUF(Strided os, int dim, const long long* index, Strided is,  \
                                                    int count, const T* src, Strided ss, T* out, int n,       \
                                                    long long* err) {                                         \
        index_add<T>(os, dim, index, is, count, src, ss, out, n, err);                                        \
    }                                                                                                         \
    extern "C" __global__ void irtj_scatter_add_##SUF(Strided os, int dim, const long long* index,            \
                                                      Strided is, const T* src, Strided ss, T* out, int n,    \
                                                      long long* err) {                                       \
        scatter_add<T>(os, dim, index, is, src, ss, out, n, err);                                             \
    }

IRTJ_INDEX(float, f32)
IRTJ_INDEX(double, f64)
IRTJ_INDEX(long long, i64)
