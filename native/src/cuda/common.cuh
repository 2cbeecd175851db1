// Shared by every kernel family: the strided-view descriptor and block reductions.
// Kept header-only so each .cu compiles to a self-contained module (one module per family,
// loaded separately by CudaBackend).
#pragma once

#include <stdint.h>

#define IRTJ_MAX_RANK 8

// A strided view as dev.irtj.tensor.Tensor describes it (shape, strides, offset, in elements).
// Passed by value as a kernel parameter: the Java side lays out exactly these 18 ints.
struct Strided {
    int rank;
    int shape[IRTJ_MAX_RANK];
    int stride[IRTJ_MAX_RANK];
    int offset;
};

// Storage position of the row-major element `linear` of the view; the same walk as
// dev.irtj.tensor.StridedIndex.offsets, but from the coordinates directly.
__device__ __forceinline__ int strided_offset(const Strided& s, int linear) {
    int pos = s.offset;
    for (int d = s.rank - 1; d >= 0; d--) {
        int n = s.shape[d];
        int c = linear % n;
        linear /= n;
        pos += c * s.stride[d];
    }
    return pos;
}

// Whether the view's row-major element `linear` sits at offset + linear: strides are the dense
// row-major ones (dims of extent 1 may have any stride).
__device__ __forceinline__ bool strided_is_contiguous(const Strided& s) {
    int expected = 1;
    for (int d = s.rank - 1; d >= 0; d--) {
        if (s.shape[d] != 1 && s.stride[d] != expected) return false;
        expected *= s.shape[d];
    }
    return true;
}

// Positions of a view's elements for a loop over them: contiguity is decided once, so a dense
// view (the common case: most operands are fresh outputs) costs an add per element instead of a
// division and a remainder per dimension.
struct StridedWalk {
    const Strided& s;  // the kernel's own parameter: no second copy of the descriptor
    bool contiguous;
    __device__ __forceinline__ explicit StridedWalk(const Strided& view) : s(view), contiguous(strided_is_contiguous(view)) {}
    __device__ __forceinline__ int operator()(int linear) const { return contiguous ? s.offset + linear : strided_offset(s, linear); }
};

#define GRID_STRIDE_LOOP(i, n) \
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T>
__device__ __forceinline__ T warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) {
        T other = __shfl_xor_sync(0xffffffffu, v, o);
        v = other > v ? other : v;
    }
    return v;
}

// Sum over the whole block, in a fixed tree (the same result for the same input every run).
// `scratch` holds one value per warp; every thread gets the total.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    T total = lane < warps ? scratch[lane] : T(0);
    total = warp_sum(total);
    return total;
}

template <typename T>
__device__ __forceinline__ T block_max(T v, T* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    T total = lane < warps ? scratch[lane] : scratch[0];
    total = warp_max(total);
    return total;
}
