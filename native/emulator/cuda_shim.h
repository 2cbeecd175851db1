// Runs the kernels of ../src/cuda on the host, for checking their indexing where no GPU exists:
// every CUDA thread of a block is an OS thread, __syncthreads a block barrier, warp shuffles go
// through a per-warp exchange buffer between two warp barriers. Blocks run one after another, so
// __shared__ variables (function-local statics here) belong to the running block. Only what the
// irtj kernels use is provided; the WMMA calls of gemm_tf32.cu come from include/mma.h's
// plain-matrix stand-in, and the GEMMs' cp.async copies from include/cuda_pipeline.h's.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using std::erf;
using std::exp;
using std::fabs;
using std::fma;
using std::isnan;
using std::log;
using std::max;
using std::min;
using std::pow;
using std::sqrt;
using std::tanh;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(x) __attribute__((aligned(x)))

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace emu {
struct Warp {
    std::unique_ptr<std::barrier<>> bar;
    uint64_t buf[32];
};
inline dim3 grid_dim, block_dim;
inline std::unique_ptr<std::barrier<>> block_bar;
inline std::vector<Warp> warps;
inline thread_local dim3 thread_idx, block_idx;
}  // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)

inline void __syncthreads() { emu::block_bar->arrive_and_wait(); }

inline void __syncwarp(unsigned = 0xffffffffu) { emu::warps[threadIdx.x / 32].bar->arrive_and_wait(); }

template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
    emu::Warp& w = emu::warps[threadIdx.x / 32];
    int lane = threadIdx.x % 32;
    std::memcpy(&w.buf[lane], &v, sizeof(T));
    w.bar->arrive_and_wait();
    T r;
    std::memcpy(&r, &w.buf[lane ^ offset], sizeof(T));
    w.bar->arrive_and_wait();
    return r;
}

inline void __trap() { std::abort(); }

// The index kernels record a bad index with a compare-and-swap; here threads are OS threads.
inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long val) {
    std::atomic_ref<unsigned long long> a(*address);
    a.compare_exchange_strong(compare, val);
    return compare;
}

namespace emu {
// Runs f() as every thread of every block of the grid; block threads are a multiple of 32.
template <typename F>
void launch(dim3 grid, dim3 block, F f) {
    grid_dim = grid;
    block_dim = block;
    unsigned n = block.x * block.y * block.z;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                block_bar = std::make_unique<std::barrier<>>(n);
                warps = std::vector<Warp>((n + 31) / 32);
                for (unsigned w = 0; w < warps.size(); w++) {
                    warps[w].bar = std::make_unique<std::barrier<>>(std::min(32u, n - 32 * w));
                }
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < n; t++) {
                    threads.emplace_back([=] {
                        block_idx = {bx, by, bz};
                        thread_idx = {t, 0, 0};
                        f();
                        // A thread that has finished no longer holds up barriers of the others.
                        block_bar->arrive_and_drop();
                        warps[t / 32].bar->arrive_and_drop();
                    });
                }
                for (auto& th : threads) th.join();
            }
}
}  // namespace emu
