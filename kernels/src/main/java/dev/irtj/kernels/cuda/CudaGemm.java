package dev.irtj.kernels.cuda;

import jcuda.driver.CUdeviceptr;

import java.util.Locale;
import java.util.logging.Logger;

/**
 * Which GEMM computes F32 products: cuBLAS when one of its bindings loads — JCublas2
 * ({@code libcublas.so.12}, CUDA 12 machines), else JavaCPP's CUDA presets
 * ({@code libcublas.so.13}, CUDA 13 machines) — otherwise our own kernels, with the reason each
 * binding failed kept in {@link #why} (tests that need cuBLAS are skipped with it, never
 * silently run on our kernels). {@code -Dirtj.cuda.gemm=cublas|irtj} forces one;
 * {@code -Dirtj.cuda.tf32=true} allows TF32 tensor cores (cuBLAS's TF32 math mode, or our WMMA
 * kernel); exact FP32 is the default, as in PyTorch. The choice is logged once. F64 always uses
 * our exact kernel.
 */
final class CudaGemm {
    private static final Logger LOG = Logger.getLogger(CudaGemm.class.getName());

    enum Engine { CUBLAS, IRTJ }

    final Engine engine;
    final boolean tf32;
    final String why;
    private final CublasBinding cublas;

    private CudaGemm(Engine engine, boolean tf32, String why, CublasBinding cublas) {
        this.engine = engine;
        this.tf32 = tf32;
        this.why = why;
        this.cublas = cublas;
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
            case "cublas", "" -> {
                StringBuilder failures = new StringBuilder();
                CublasBinding b = openCublas(cuda, tf32, failures);
                if (b != null) {
                    g = new CudaGemm(Engine.CUBLAS, tf32, (forced.isEmpty() ? "" : "forced by -Dirtj.cuda.gemm=cublas; ") + b.name() + " loaded", b);
                } else if (forced.isEmpty()) {
                    g = new CudaGemm(Engine.IRTJ, tf32, "cuBLAS unavailable: " + failures, null);
                } else {
                    throw new CudaException("-Dirtj.cuda.gemm=cublas, but cuBLAS did not load: " + failures);
                }
            }
            default -> throw new IllegalArgumentException("-Dirtj.cuda.gemm must be cublas or irtj, got '" + forced + "'");
        }
        LOG.info("irtj: CUDA GEMM: " + (g.engine == Engine.CUBLAS ? "cuBLAS" : "irtj kernels") + ", "
                + (tf32 ? "TF32 tensor cores" : "exact FP32") + " (" + g.why + ")");
        return g;
    }

    /** The first binding that opens a handle, or null with each one's failure appended to {@code failures}. */
    private static CublasBinding openCublas(Cuda cuda, boolean tf32, StringBuilder failures) {
        try {
            return new JCublasBinding(cuda, tf32);
        } catch (LinkageError | RuntimeException e) {
            failures.append("JCublas2 (libcublas.so.12): ").append(firstLine(e));
        }
        try {
            return new JavaCppCublasBinding(cuda, tf32);
        } catch (LinkageError | RuntimeException e) {
            failures.append("; JavaCPP (libcublas.so.13): ").append(firstLine(e));
        }
        return null;
    }

    private static String firstLine(Throwable e) {
        String m = e.toString();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
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
     * output must already hold β·C0's source (CudaBackend copies C0 into it) when β ≠ 0. The
     * pointers are raw allocations (storage element 0); the plan's offsets are added here.
     */
    void cublasSgemm(GemmPlan p, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, float alpha, float beta) {
        int[] la = layoutOf(p.aRs, p.aCs, p.k, p.m), lb = layoutOf(p.bRs, p.bCs, p.n, p.k);
        cublas.sgemmStridedBatched(lb[0] != 0, la[0] != 0, p.n, p.m, p.k, alpha,
                b, p.bOff, lb[1], p.bBs, a, p.aOff, la[1], p.aBs, beta, out, p.n, (long) p.m * p.n, p.batch);
    }

    /** The cuBLAS binding in use (null when our kernels compute). */
    String cublasName() {
        return cublas == null ? null : cublas.name();
    }

    /** Rows and columns of C one block of our GEMM kernels computes (BM, BN of gemm_fp32.cu / gemm_tf32.cu). */
    static final int TILE = 128;
    /** CUDA's limit on gridDim.y and gridDim.z. */
    static final int MAX_GRID_YZ = 65535;

    /** One launch of our GEMM: batch entries [batchFirst, +batchCount), rows [rowFirst, +rowCount) of each. */
    record Launch(int batchFirst, int batchCount, int rowFirst, int rowCount) {
        int gridY() {
            return (rowCount + TILE - 1) / TILE;
        }
    }

    /**
     * The launches that cover an m×n product of {@code batch} entries within the grid limits
     * (gridDim.z = batch entries, gridDim.y = row tiles, each at most 65535): batches in slices
     * of 65535 while the rows fit one grid; otherwise one entry at a time in row slices of
     * 65535 tiles (the kernel addresses C as [batch][m][n], so a row slice must be alone in its
     * launch).
     */
    static java.util.List<Launch> launches(int m, int batch) {
        java.util.List<Launch> out = new java.util.ArrayList<>();
        long rowTiles = (m + (long) TILE - 1) / TILE;
        if (rowTiles <= MAX_GRID_YZ) {
            for (int b0 = 0; b0 < batch; b0 += MAX_GRID_YZ) out.add(new Launch(b0, Math.min(MAX_GRID_YZ, batch - b0), 0, m));
        } else {
            int rowsPerLaunch = MAX_GRID_YZ * TILE;
            for (int b = 0; b < batch; b++) {
                for (int r0 = 0; r0 < m; r0 += rowsPerLaunch) out.add(new Launch(b, 1, r0, Math.min(rowsPerLaunch, m - r0)));
            }
        }
        return out;
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

        /** The plan of one launch: its batch entries and rows, the same addressing with the offsets moved on. */
        GemmPlan slice(Launch l) {
            GemmPlan s = batchSlice(l.batchFirst(), l.batchCount());
            s.m = l.rowCount();
            s.aOff += l.rowFirst() * aRs;
            s.cOff += l.rowFirst() * cRs;
            return s;
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
