// Host stand-in for CUDA's <cuda_pipeline.h> (see ../cuda_shim.h): the asynchronous copies the
// GEMMs' two-stage pipeline issues, done at once. Which stage each copy lands in, the zero fill
// of out-of-range elements and the barriers around the stages are what the emulation checks; the
// overlap of copies with arithmetic is not emulated.
#pragma once

#include <cstddef>
#include <cstring>

// Copies size_and_align - zfill bytes from src and zero-fills the zfill bytes after them; with
// zfill = size_and_align nothing is read.
inline void __pipeline_memcpy_async(void* dst, const void* src, size_t size_and_align, size_t zfill = 0) {
    size_t copied = size_and_align - zfill;
    if (copied > 0) std::memcpy(dst, src, copied);
    if (zfill > 0) std::memset(static_cast<char*>(dst) + copied, 0, zfill);
}

inline void __pipeline_commit() {}

inline void __pipeline_wait_prior(size_t) {}
