package dev.irtj.kernels.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * One way of reaching cuBLAS's single-precision strided-batched GEMM on {@link Cuda}'s stream:
 * JCublas2 (binds {@code libcublas.so.12}, CUDA 12 machines) or JavaCPP's CUDA presets (bind
 * {@code libcublas.so.13}, CUDA 13 machines). Arguments are cuBLAS's own, column-major; device
 * operands are a raw allocation plus an element offset.
 */
interface CublasBinding {
    /** Which library answered, for logs (e.g. "JCublas2, libcublas.so.12"). */
    String name();

    /** C = alpha·op(A)·op(B) + beta·C for each of {@code batch} strided entries. */
    void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             CUdeviceptr a, long aOffset, int lda, long strideA,
                             CUdeviceptr b, long bOffset, int ldb, long strideB,
                             float beta, CUdeviceptr c, int ldc, long strideC, int batch);

    /** Throws a {@link CudaException} naming {@code call} unless {@code status} is CUBLAS_STATUS_SUCCESS (0 in both bindings). */
    static void check(int status, String call, String statusName) {
        if (status != 0) throw new CudaException(call + " failed: " + statusName + " (" + status + ")");
    }
}
