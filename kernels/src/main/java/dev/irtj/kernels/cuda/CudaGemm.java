package dev.irtj.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

import java.util.Locale;
import java.util.logging.Logger;

/**
 * Which GEMM computes F32 products: cuBLAS through JCublas2 when {@code libcublas.so.12} loads,
 * otherwise (CUDA 13 machines, whose libcublas.so.13 JCublas 12.6 cannot bind) our own kernels.
 * {@code -Dirtj.cuda.gemm=cublas|irtj} forces one; {@code -Dirtj.cuda.tf32=true} allows TF32
 * tensor cores (cuBLAS's TF32 math mode, or our WMMA kernel); exact FP32 is the default, as in
 * PyTorch. The choice is logged once. F64 always uses our exact kernel.
 */
final class CudaGemm {
    private static final Logger LOG = Logger.getLogger(CudaGemm.class.getName());

    enum Engine { CUBLAS, IRTJ }

    final Engine engine;
    final boolean tf32;
    final String why;
    private final cublasHandle handle;

    private CudaGemm(Engine engine, boolean tf32, String why, cublasHandle handle) {
        this.engine = engine;
        this.tf32 = tf32;
        this.why = why;
        this.handle = handle;
    }

    /** Reads the properties; a forced engine that cannot run, or a bad value, is an error. */
    static CudaGemm choose(Cuda cuda) {
        String forced = System.getProperty("irtj.cuda.gemm", "").trim().toLowerCase(Locale.ROOT);
        String tf32Prop = System.getProperty("irtj.cuda.tf32", "false").trim().toLowerCase(Locale.ROOT);
        if (!tf32Prop.equals("true") && !tf32Prop.equals("false")) {
            throw new IllegalArgumentException("-Dirtj.cuda.tf32 must be true or false, got '" + tf32Prop + "'");
        }
        boolean tf32 = tf32Prop.equals("true");
        CudaGemm g;
        switch (forced) {
            case "irtj" -> g = new CudaGemm(Engine.IRTJ, tf32, "forced by -Dirtj.cuda.gemm=irtj", null);
            case "cublas" -> {
                cublasHandle h;
                try {
                    h = openCublas(cuda, tf32);
                } catch (LinkageError e) {
                    throw new CudaException("-Dirtj.cuda.gemm=cublas, but cuBLAS did not load (JCublas 12.6 needs libcublas.so.12): " + firstLine(e));
                }
                g = new CudaGemm(Engine.CUBLAS, tf32, "forced by -Dirtj.cuda.gemm=cublas", h);
            }
            case "" -> {
                cublasHandle h = null;
                String reason;
                try {
                    h = openCublas(cuda, tf32);
                    reason = "libcublas.so.12 loaded";
                } catch (Throwable e) {
                    reason = "cuBLAS unavailable (" + firstLine(e) + ")";
                }
                g = h != null ? new CudaGemm(Engine.CUBLAS, tf32, reason, h) : new CudaGemm(Engine.IRTJ, tf32, reason, null);
            }
            default -> throw new IllegalArgumentException("-Dirtj.cuda.gemm must be cublas or irtj, got '" + forced + "'");
        }
        LOG.info("irtj: CUDA GEMM: " + (g.engine == Engine.CUBLAS ? "cuBLAS" : "irtj kernels") + ", "
                + (tf32 ? "TF32 tensor cores" : "exact FP32") + " (" + g.why + ")");
        return g;
    }

    private static String firstLine(Throwable e) {
        String m = e.toString();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static cublasHandle openCublas(Cuda cuda, boolean tf32) {
        JCublas2.setExceptionsEnabled(false);
        cublasHandle h = new cublasHandle();
        check(JCublas2.cublasCreate(h), "cublasCreate");
        check(JCublas2.cublasSetStream(h, new cudaStream_t(cuda.stream)), "cublasSetStream");
        check(JCublas2.cublasSetMathMode(h, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        return h;
    }

    private static void check(int status, String call) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call + " failed: " + cublasStatus.stringFor(status) + " (" + status + ")");
        }
    }

    /**
     * Whether cuBLAS can take these operands as they are: each needs unit stride along one of its
     * two matrix dims and a leading dimension covering the other.
     */
    static boolean cublasLayout(GemmPlan p) {
        return layoutOf(p.aRs, p.aCs, p.k, p.m) != null && layoutOf(p.bRs, p.bCs, p.n, p.k) != null;
    }

    /**
     * For a row-major-indexed operand X[r][c] = base[r·rs + c·cs] with `rows`×`cols` elements:
     * {transposed-in-column-major?, ld}, or null when neither stride is 1 with a valid ld.
     */
    static int[] layoutOf(int rs, int cs, int cols, int rows) {
        if (cs == 1 && rs >= Math.max(1, cols)) return new int[] {0, rs};
        if (rs == 1 && cs >= Math.max(1, rows)) return new int[] {1, cs};
        return null;
    }

    /**
     * Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS gets B first. The
     * output must already hold β·C0's source (CudaBackend copies C0 into it) when β ≠ 0.
     */
    void cublasSgemm(GemmPlan p, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, float alpha, float beta) {
        int[] la = layoutOf(p.aRs, p.aCs, p.k, p.m), lb = layoutOf(p.bRs, p.bCs, p.n, p.k);
        int opB = lb[0] == 0 ? cublasOperation.CUBLAS_OP_N : cublasOperation.CUBLAS_OP_T;
        int opA = la[0] == 0 ? cublasOperation.CUBLAS_OP_N : cublasOperation.CUBLAS_OP_T;
        check(JCublas2.cublasSgemmStridedBatched(handle, opB, opA, p.n, p.m, p.k,
                Pointer.to(new float[] {alpha}), b.withByteOffset(4L * p.bOff), lb[1], p.bBs,
                a.withByteOffset(4L * p.aOff), la[1], p.aBs,
                Pointer.to(new float[] {beta}), out, p.n, (long) p.m * p.n, p.batch), "cublasSgemmStridedBatched");
    }

    /** Operand geometry in elements (see GemmArgs in native/src/cuda/gemm.cuh). */
    static final class GemmPlan {
        int m, n, k, batch;
        int aOff, aRs, aCs, aBs;
        int bOff, bRs, bCs, bBs;
        int cOff, cRs, cCs, cBs;

        /** The fields in the order of gemm.cuh's struct GemmArgs. */
        int[] args() {
            return new int[] {m, n, k, batch, aOff, aRs, aCs, aBs, bOff, bRs, bCs, bBs, cOff, cRs, cCs, cBs};
        }

        /** The plan of batch entries [first, first + count): the same addressing, offsets moved on. */
        GemmPlan batchSlice(int first, int count) {
            GemmPlan s = new GemmPlan();
            s.m = m; s.n = n; s.k = k; s.batch = count;
            s.aOff = aOff + first * aBs; s.aRs = aRs; s.aCs = aCs; s.aBs = aBs;
            s.bOff = bOff + first * bBs; s.bRs = bRs; s.bCs = bCs; s.bBs = bBs;
            s.cOff = cOff + first * cBs; s.cRs = cRs; s.cCs = cCs; s.cBs = cBs;
            return s;
        }
    }
}
