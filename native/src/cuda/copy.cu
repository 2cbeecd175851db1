// Strided copies: contiguous copies of views (transpose/permute/narrow/expand) with dtype
// conversion, and writes into strided views (copyInto).
// CPU reference: dev.irtj.tensor.ReferenceBackend.copy and copyInto (HostStorage.set rounds to
// the destination dtype; F64/F32 → I64 truncates toward zero as Java's (long) cast does).
#include "common.cuh"

template <typename O, typename I>
__device__ __forceinline__ O convert(I v) { return (O) v; }

// Java's (long) of a double: NaN → 0, saturating at the long range; C's cast is undefined there.
template <>
__device__ __forceinline__ long long convert<long long, double>(double v) {
    if (isnan(v)) return 0;
    if (v >= 9.2233720368547758e18) return 0x7fffffffffffffffLL;
    if (v <= -9.2233720368547758e18) return (long long) 0x8000000000000000ULL;
    return (long long) v;
}

template <>
__device__ __forceinline__ long long convert<long long, float>(float v) {
    return convert<long long, double>((double) v);
}

// dst is the destination view; src arrives expanded to dst's shape. Overlap between src and dst
// is resolved by CudaBackend (it copies through a temporary), as the reference reads first.
template <typename O, typename I>
__device__ void strided_copy(O* dst, Strided ds, const I* src, Strided ss, int n) {
    StridedWalk to(ds), from(ss);
    GRID_STRIDE_LOOP(i, n) dst[to(i)] = convert<O, I>(src[from(i)]);
}

#define IRTJ_COPY(O, OSUF, I, ISUF)                                                                          \
    extern "C" __global__ void irtj_copy_##ISUF##_to_##OSUF(O* dst, Strided ds, const I* src, Strided ss,    \
                                                            int n) {                                         \
        strided_copy<O, I>(dst, ds, src, ss, n);                                                             \
    }

IRTJ_COPY(float, f32, float, f32)
IRTJ_COPY(float, f32, double, f64)
IRTJ_COPY(float, f32, long long, i64)
IRTJ_COPY(double, f64, float, f32)
IRTJ_COPY(double, f64, double, f64)
IRTJ_COPY(double, f64, long long, i64)
IRTJ_COPY(long long, i64, float, f32)
IRTJ_COPY(long long, i64, double, f64)
IRTJ_COPY(long long, i64, long long, i64)
