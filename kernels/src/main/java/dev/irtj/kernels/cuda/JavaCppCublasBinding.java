package dev.irtj.kernels.cuda;

import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;

import java.lang.reflect.Method;

/**
 * cuBLAS through JavaCPP's CUDA presets (13.1), whose JNI bridge links {@code libcublas.so.13}
 * and {@code libcublasLt.so.13}: on CUDA 13 machines those come from PyTorch's nvidia wheels or
 * the toolkit, found through LD_LIBRARY_PATH (scripts/device-check.sh sets it). cuBLAS runs in
 * the primary context, which {@link Cuda} made current, on {@link Cuda}'s stream; device
 * addresses are handed over from JCuda's pointer objects as plain numbers.
 */
final class JavaCppCublasBinding implements CublasBinding {
    private static final Method NATIVE_POINTER;

    static {
        try {
            NATIVE_POINTER = NativePointerObject.class.getDeclaredMethod("getNativePointer");
            NATIVE_POINTER.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("JCuda's NativePointerObject.getNativePointer is not reachable: " + e);
        }
    }

    private final cublasContext handle = new cublasContext();

    /** Fails with a LinkageError when the bridges or libcublas.so.13 do not load, a CudaException when cuBLAS refuses. */
    JavaCppCublasBinding(Cuda cuda, boolean tf32) {
        check(cublas.cublasCreate_v2(handle), "cublasCreate_v2");
        check(cublas.cublasSetStream_v2(handle, new CUstream_st(new Address(address(cuda.stream)))), "cublasSetStream_v2");
        check(cublas.cublasSetMathMode(handle, tf32 ? cublas.CUBLAS_TF32_TENSOR_OP_MATH : cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    }

    /** The raw address a JCuda pointer object holds (a device pointer, a stream handle). */
    static long address(NativePointerObject p) {
        try {
            return (long) NATIVE_POINTER.invoke(p);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("reading a JCuda pointer's address: " + e, e);
        }
    }

    /** A JavaCPP pointer at a given address, owning nothing. */
    private static final class Address extends FloatPointer {
        Address(long address) {
            this.address = address;
        }
    }

    private static void check(int status, String call) {
        if (status != 0) CublasBinding.check(status, call, cublas.cublasGetStatusString(status).getString());
    }

    @Override
    public String name() {
        return "JavaCPP cuda presets 13.1, libcublas.so.13";
    }

    @Override
    public void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                    CUdeviceptr a, long aOffset, int lda, long strideA,
                                    CUdeviceptr b, long bOffset, int ldb, long strideB,
                                    float beta, CUdeviceptr c, int ldc, long strideC, int batch) {
        try (FloatPointer al = new FloatPointer(alpha); FloatPointer be = new FloatPointer(beta)) {
            check(cublas.cublasSgemmStridedBatched(handle,
                    transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N, transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N, m, n, k,
                    al, new Address(address(a) + 4L * aOffset), lda, strideA, new Address(address(b) + 4L * bOffset), ldb, strideB,
                    be, new Address(address(c)), ldc, strideC, batch), "cublasSgemmStridedBatched");
        }
    }
}
