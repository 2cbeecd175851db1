package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply, {@code C = alpha * op(A) * op(B) + beta * C}, on row-major
 * arrays, written with the (incubating) Java Vector API.
 *
 * <p>The structure follows the classic Goto/BLIS design:
 * <ol>
 *   <li>The k dimension is cut into slices of {@link #KC}, the columns of C into blocks of
 *       {@link #NC} and the rows into blocks of {@link #MC}, so that the packed block of A and
 *       the B micro-panel in use stay in the L2 cache and the A micro-panel in use in L1.</li>
 *   <li>Each block of A and B is <em>packed</em>: copied into a contiguous buffer in exactly the
 *       order the micro-kernel reads it. Packing absorbs transposes and leading dimensions, folds
 *       in {@code alpha}, and pads the last panel with zeros, so the micro-kernel never has to deal
 *       with strides or ragged edges.</li>
 *   <li>A register-blocked micro-kernel computes an {@link #MR} x {@link #NR} tile of C, keeping
 *       all partial sums in vector registers for a whole k slice.</li>
 * </ol>
 *
 * <p>Only tiles that stick out of C take a slower route: their valid corner is copied from the
 * scratch tile element by element.
 *
 * <p>Large products are split over the threads of {@link GemmPool}; {@link #sgemmBatched} runs
 * many small independent products (e.g. attention heads) in parallel instead.
 */
public final class Sgemm {

    /**
     * Widest float vector the CPU handles well. We need at least 256 bits; callers are expected
     * to check {@link #isSupported()} and use another implementation otherwise.
     */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED.length() >= 8
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;
    static final int VLEN = SPECIES.length();

    /**
     * Micro-tile: 8 rows by 2 vectors (32 columns with AVX-512). That is 16 accumulators, plus 2
     * registers for the B row and 1 for the broadcast A element: 19 of the 32 AVX-512 registers,
     * so the JIT never has to spill. 16 independent FMA chains hide the FMA latency (4 cycles x
     * 2 pipes needs at least 8), and each k step does 2 vector loads plus 8 broadcasts for 16 FMAs,
     * well within the 2 loads per cycle the core sustains. Wider tiles (e.g. 6 x 4 vectors) were
     * as fast at best but, under JDK 17, sometimes compiled into a much slower form.
     */
    static final int MR = 8;
    static final int NR = 2 * VLEN;

    /**
     * k slice. Long slices amortise the per-tile work (storing the accumulators, merging them
     * into C, and the C cache misses that come with it) over more FMAs: 768 measured 3-8% faster
     * than 256-512 on the ViT shapes. The 8 x KC panel of A (24 KiB) stays in L1; the KC x NR
     * panel of B (96 KiB) streams from L2, which Zen 4/5 feed fast enough. On the Sapphire Rapids
     * host a 256 slice (B panel in its 48 KiB L1, as in Goto/BLIS) made the bare kernel ~10 %
     * faster but whole products no faster than 768, so one setting serves both (bench/README.md).
     */
    static final int KC = 768;
    /** k steps per iteration of the micro-kernel's loop; packed k slices are padded to a multiple. */
    static final int K_UNROLL = 4;
    /** Row block: the packed MC x KC block of A (288 KiB) plus one B micro-panel stay in L2. */
    static final int MC = 96;
    /** Column block: the packed KC x NC panel of B (9 MiB) lives in L3 and is shared by threads. */
    static final int NC = 3072;

    /** Below this many multiply-adds a product is not worth handing to other threads. */
    private static final long PARALLEL_THRESHOLD_MACS = 1L << 18;
    /**
     * A product is split over k rather than over rows when C is at most this many elements (its
     * row blocks would be a few microseconds of work per k slice) and k spans at least
     * {@link #SPLIT_K_MIN_K}. A larger C keeps every thread busy on row blocks, and each thread's
     * private partial C would no longer stay in cache.
     */
    private static final long SPLIT_K_MAX_OUTPUT = 1L << 18;
    private static final int SPLIT_K_MIN_K = 4 * KC;
    /** Below this many elements, packing a B panel on one thread beats waking the others. */
    private static final long PARALLEL_PACK_MIN_ELEMENTS = 1L << 16;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Sgemm() {}

    /** True when the CPU offers vectors of at least 256 bits, which this class relies on. */
    public static boolean isSupported() {
        return FloatVector.SPECIES_PREFERRED.length() >= 8;
    }

    /**
     * Computes {@code C = alpha * op(A) * op(B) + beta * C} where op(A) is m x k, op(B) is k x n
     * and C is m x n, all row-major. Element (i, p) of op(A) is {@code a[aOff + i*lda + p]}, or
     * {@code a[aOff + p*lda + i]} when {@code transA}; likewise for B. When {@code beta == 0} the
     * old contents of C are never read, so they may be garbage (even NaN).
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null, 0);
    }

    /**
     * As {@link #sgemm(boolean, boolean, int, int, int, float, float[], int, int, float[], int, int, float, float[], int, int)}
     * plus a bias per column: {@code C[i][j] = alpha·(op(A)·op(B))[i][j] + beta·C[i][j] + bias[biasOff + j]}.
     * The bias is added as each tile is stored (a Linear layer's bias costs no pass over C);
     * {@code bias} may be null.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        checkArguments(transA, transB, m, n, k, lda, ldb, ldc);
        if (bias != null && (biasOff < 0 || biasOff + n > bias.length)) {
            throw new IllegalArgumentException("bias of length " + bias.length + " from " + biasOff + " has no " + n + " columns");
        }
        if (m == 0 || n == 0) {
            return;
        }
        run(new Problem(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb,
                beta, c, cOff, ldc, bias, biasOff, null));
    }

    /**
     * A Linear layer and its exact (erf) GELU in one product: {@code Z = op(A)·op(B)} and
     * {@code C = gelu(Z + bias)} (one bias value per column), both m x n with leading dimension
     * {@code ldc}. The product's tiles are stored into Z, and each block of Z, right after its
     * last k slice is stored and while it is still in cache, is turned into its block of C
     * ({@link GeluKernels#biasGeluBlock}), so the activation costs no pass of its own over
     * memory. Z, the product without the bias, is what the backward
     * ({@link GeluKernels#biasGeluBackward}) needs.
     */
    public static void sgemmBiasGelu(boolean transA, boolean transB, int m, int n, int k,
                                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                     float[] c, int cOff, int ldc, float[] z, int zOff, float[] bias, int biasOff) {
        checkArguments(transA, transB, m, n, k, lda, ldb, ldc);
        if (bias == null || z == null) throw new NullPointerException("sgemmBiasGelu needs a bias and an output for Z");
        if (biasOff < 0 || biasOff + n > bias.length) {
            throw new IllegalArgumentException("bias of length " + bias.length + " from " + biasOff + " has no " + n + " columns");
        }
        if (m == 0 || n == 0) return;
        long lastZ = zOff + (long) (m - 1) * ldc + n, lastC = cOff + (long) (m - 1) * ldc + n;
        if (zOff < 0 || lastZ > z.length || cOff < 0 || lastC > c.length) {
            throw new IllegalArgumentException("C or Z (" + m + " x " + n + ", ldc " + ldc + ") does not fit its array");
        }
        if (z == c) throw new IllegalArgumentException("sgemmBiasGelu: Z and C must be different arrays");
        // The product itself is stored into Z; the epilogue reads each finished block of Z and
        // writes gelu(Z + bias) into C.
        run(new Problem(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb,
                0f, z, zOff, ldc, null, 0, new Epilogue(c, cOff, bias, biasOff)));
    }

    /**
     * The activation output and the bias of {@link #sgemmBiasGelu}: once a block of the product
     * has its last k slice stored, bias + GELU of it goes to {@code y} (same leading dimension).
     */
    private record Epilogue(float[] y, int yOff, float[] bias, int biasOff) {
        /** Rows [row, row + rows) and columns [col, col + cols) of the product (which starts at zOff, row stride ld). */
        void apply(float[] z, int zOff, int ld, int row, int rows, int col, int cols) {
            int at = row * ld + col;
            GeluKernels.biasGeluBlock(z, zOff + at, ld, bias, biasOff + col, y, yOff + at, rows, cols);
        }
    }

    private static void run(Problem problem) {
        int m = problem.m(), n = problem.n(), k = problem.k();
        if (k == 0 || problem.alpha() == 0f) {
            scaleC(m, n, problem.beta(), problem.c(), problem.cOff(), problem.ldc());
            if (problem.bias() != null) addBias(m, n, problem.bias(), problem.biasOff(), problem.c(), problem.cOff(), problem.ldc());
            if (problem.epilogue() != null) problem.epilogue().apply(problem.c(), problem.cOff(), problem.ldc(), 0, m, 0, n);
            return;
        }
        long macs = (long) m * n * k;
        int threads = GemmPool.parallelism();
        if (threads == 1 || macs < PARALLEL_THRESHOLD_MACS || GemmPool.insideTask()) {
            multiplySingleThreaded(problem, WORKSPACE.get(), false, false);
            return;
        }
        if (k >= SPLIT_K_MIN_K && (long) m * n <= SPLIT_K_MAX_OUTPUT) {
            runSplitK(problem, threads);
            return;
        }
        runParallel(problem, WORKSPACE.get());
    }

    /**
     * Runs {@code batch} independent products {@code C_i = alpha * op(A_i) * op(B_i) + beta * C_i}
     * where {@code A_i} starts at {@code aOff + i*strideA} (and likewise for B and C). A stride of
     * 0 shares one operand between all items; a shared operand that fits a single block is packed
     * once per thread instead of once per item.
     *
     * <p>The items, not the individual products, are spread over the threads, which suits the
     * many small products of multi-head attention.
     */
    public static void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k,
                                    float alpha, float[] a, int aOff, int strideA, int lda,
                                    float[] b, int bOff, int strideB, int ldb, float beta,
                                    float[] c, int cOff, int strideC, int ldc) {
        checkArguments(transA, transB, m, n, k, lda, ldb, ldc);
        if (batch < 0) {
            throw new IllegalArgumentException("negative batch: " + batch);
        }
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            for (int item = 0; item < batch; item++) {
                scaleC(m, n, beta, c, cOff + item * strideC, ldc);
            }
            return;
        }
        long macsPerItem = (long) m * n * k;
        int threads = GemmPool.insideTask() ? 1 : GemmPool.parallelism();
        if (threads > 1 && batch < 2 * threads && macsPerItem >= PARALLEL_THRESHOLD_MACS) {
            // Too few items to share out: let each (large) product use all threads instead.
            for (int item = 0; item < batch; item++) {
                sgemm(transA, transB, m, n, k, alpha, a, aOff + item * strideA, lda,
                        b, bOff + item * strideB, ldb, beta, c, cOff + item * strideC, ldc);
            }
            return;
        }
        // Packed operands can only be reused when each is a single block.
        boolean shareA = strideA == 0 && m <= MC && k <= KC;
        boolean shareB = strideB == 0 && n <= NC && k <= KC;
        // Several tasks per thread keep the threads balanced when the machine is shared, while
        // keeping enough items per task for a shared operand's packing to pay off.
        int taskCount = threads == 1 ? 1 : (int) Math.min(batch, Math.max(1,
                Math.min(4L * threads, (long) batch * macsPerItem / PARALLEL_THRESHOLD_MACS)));
        GemmPool.parallelFor(taskCount, task -> {
            int first = (int) ((long) batch * task / taskCount);
            int end = (int) ((long) batch * (task + 1) / taskCount);
            Workspace workspace = WORKSPACE.get();
            for (int item = first; item < end; item++) {
                Problem problem = new Problem(transA, transB, m, n, k, alpha,
                        a, aOff + item * strideA, lda, b, bOff + item * strideB, ldb,
                        beta, c, cOff + item * strideC, ldc, null, 0, null);
                boolean notFirst = item > first;
                multiplySingleThreaded(problem, workspace, shareA && notFirst, shareB && notFirst);
            }
        });
    }

    // ---------------------------------------------------------------------------------------
    // Work splitting

    /** Immutable description of one product, so that blocks of it can be handed to threads. */
    private record Problem(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff, Epilogue epilogue) {}

    /**
     * Multi-threaded product. For each k slice (and column block) the threads first pack the
     * shared B panel together, then claim row blocks of C; each row block packs its own slice of
     * A into a per-thread buffer and multiplies it by the shared panel. Sharing the packed B
     * panel means no thread repeats another's packing, and the panel is in L3 only once.
     */
    private static void runParallel(Problem pr, Workspace ws) {
        int m = pr.m();
        int n = pr.n();
        int k = pr.k();
        int kSlice = ceilDiv(k, ceilDiv(k, KC));
        int threads = GemmPool.parallelism();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int bPanels = ceilDiv(nc, NR);
            // Row blocks of at most MC rows, but small enough to give each thread at least two,
            // so that the threads finish together. Only when even that leaves a thread idle are
            // the B panels split into column chunks too (each chunk repacks its A block).
            int rowsPerTask = Math.min(MC, roundUp(ceilDiv(m, 2 * threads), MR));
            int rowTasks = ceilDiv(m, rowsPerTask);
            int colChunks = rowTasks >= threads ? 1 : Math.min(bPanels, ceilDiv(2 * threads, rowTasks));
            int panelsPerChunk = ceilDiv(bPanels, colChunks);
            int chunks = ceilDiv(bPanels, panelsPerChunk);
            for (int pc = 0; pc < k; pc += kSlice) {
                int kc = Math.min(kSlice, k - pc);
                int kp = paddedK(kc);
                float[] packedB = ws.packedB(bPanels * NR * kp);
                int jcBlock = jc;
                int pcSlice = pc;
                int packTasks = Math.min(bPanels, 4 * threads);
                if ((long) kc * nc < PARALLEL_PACK_MIN_ELEMENTS) {
                    packB(pr.transB(), pr.b(), pr.bOff(), pr.ldb(), pc, kc, jc, nc, packedB, 0);
                } else {
                    GemmPool.parallelFor(packTasks, task -> {
                        int firstPanel = (int) ((long) bPanels * task / packTasks);
                        int endPanel = (int) ((long) bPanels * (task + 1) / packTasks);
                        int firstCol = firstPanel * NR;
                        int cols = Math.min(nc, endPanel * NR) - firstCol;
                        packB(pr.transB(), pr.b(), pr.bOff(), pr.ldb(), pcSlice, kc, jcBlock + firstCol,
                                cols, packedB, firstCol * kp);
                    });
                }
                // Only the first k slice sees the caller's beta; later slices accumulate.
                float beta = pc == 0 ? pr.beta() : 1f;
                GemmPool.parallelFor(rowTasks * chunks, task -> {
                    int ic = (task / chunks) * rowsPerTask;
                    int mc = Math.min(rowsPerTask, m - ic);
                    int firstCol = (task % chunks) * panelsPerChunk * NR;
                    int cols = Math.min(nc, firstCol + panelsPerChunk * NR) - firstCol;
                    Workspace local = WORKSPACE.get();
                    float[] packedA = local.packedA(roundUp(mc, MR) * kp);
                    packA(pr.transA(), pr.a(), pr.aOff(), pr.lda(), ic, mc, pcSlice, kc, pr.alpha(), packedA);
                    multiplyPackedBlocks(mc, cols, kp, packedA, packedB, firstCol * kp, beta,
                            pr.c(), pr.cOff() + ic * pr.ldc() + jcBlock + firstCol, pr.ldc(), local.tile,
                            pcSlice == 0 ? pr.bias() : null, pr.biasOff() + jcBlock + firstCol);
                    if (pr.epilogue() != null && pcSlice + kc == k) {
                        pr.epilogue().apply(pr.c(), pr.cOff(), pr.ldc(), ic, mc, jcBlock + firstCol, cols);
                    }
                });
            }
        }
    }

    /**
     * Long-k product with a small C (the weight gradients {@code dY^T X} of a Linear layer, k =
     * tokens in the batch): row blocks would give each thread a few microseconds of work per k
     * slice between barriers, so instead each thread takes a contiguous k range and computes a
     * whole partial C on its own, and the partials are summed at the end. Thread 0 writes into C
     * itself (with the caller's beta); the others into scratch buffers.
     */
    private static void runSplitK(Problem pr, int threads) {
        int m = pr.m(), n = pr.n(), k = pr.k();
        int parts = Math.min(threads, ceilDiv(k, KC));
        float[][] partials = new float[parts][];
        GemmPool.parallelFor(parts, part -> {
            int first = (int) ((long) k * part / parts), end = (int) ((long) k * (part + 1) / parts);
            int aStep = pr.transA() ? pr.lda() : 1, bStep = pr.transB() ? 1 : pr.ldb();
            boolean intoC = part == 0;
            float[] target = intoC ? pr.c() : (partials[part] = new float[m * n]);
            Problem slice = new Problem(pr.transA(), pr.transB(), m, n, end - first, pr.alpha(),
                    pr.a(), pr.aOff() + first * aStep, pr.lda(), pr.b(), pr.bOff() + first * bStep, pr.ldb(),
                    intoC ? pr.beta() : 0f, target, intoC ? pr.cOff() : 0, intoC ? pr.ldc() : n,
                    intoC ? pr.bias() : null, pr.biasOff(), null);
            multiplySingleThreaded(slice, WORKSPACE.get(), false, false);
        });
        int rowTasks = Math.min(m, 2 * threads);
        GemmPool.parallelFor(rowTasks, task -> {
            int firstRow = (int) ((long) m * task / rowTasks), endRow = (int) ((long) m * (task + 1) / rowTasks);
            for (int part = 1; part < parts; part++) {
                addRows(partials[part], firstRow, endRow, n, pr.c(), pr.cOff(), pr.ldc());
            }
            if (pr.epilogue() != null) pr.epilogue().apply(pr.c(), pr.cOff(), pr.ldc(), firstRow, endRow - firstRow, 0, n);
        });
    }

    /** c[rows, 0:n] += partial[rows, 0:n] (partial dense with row length n). */
    private static void addRows(float[] partial, int firstRow, int endRow, int n, float[] c, int cOff, int ldc) {
        int vectorEnd = n - n % VLEN;
        for (int i = firstRow; i < endRow; i++) {
            int src = i * n, dst = cOff + i * ldc;
            int j = 0;
            for (; j < vectorEnd; j += VLEN) {
                FloatVector.fromArray(SPECIES, c, dst + j).add(FloatVector.fromArray(SPECIES, partial, src + j))
                        .intoArray(c, dst + j);
            }
            for (; j < n; j++) {
                c[dst + j] += partial[src + j];
            }
        }
    }

    /**
     * Computes the whole product on the calling thread. {@code packedAIsCurrent} /
     * {@code packedBIsCurrent} say that the workspace already holds the (single-block) packed
     * operand, as happens for shared operands in a batch.
     */
    private static void multiplySingleThreaded(Problem pr, Workspace ws, boolean packedAIsCurrent,
                                               boolean packedBIsCurrent) {
        int m = pr.m();
        int n = pr.n();
        int k = pr.k();
        // Equal k slices (e.g. 2 x 512 rather than 768 + 256) keep every kernel call long.
        int kSlice = ceilDiv(k, ceilDiv(k, KC));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kSlice) {
                int kc = Math.min(kSlice, k - pc);
                int kp = paddedK(kc);
                float[] packedB = ws.packedB(roundUp(nc, NR) * kp);
                if (!packedBIsCurrent) {
                    packB(pr.transB(), pr.b(), pr.bOff(), pr.ldb(), pc, kc, jc, nc, packedB, 0);
                }
                // Only the first k slice sees the caller's beta; later slices accumulate.
                float beta = pc == 0 ? pr.beta() : 1f;
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    float[] packedA = ws.packedA(roundUp(mc, MR) * kp);
                    if (!packedAIsCurrent) {
                        packA(pr.transA(), pr.a(), pr.aOff(), pr.lda(), ic, mc, pc, kc, pr.alpha(), packedA);
                    }
                    multiplyPackedBlocks(mc, nc, kp, packedA, packedB, 0, beta,
                            pr.c(), pr.cOff() + ic * pr.ldc() + jc, pr.ldc(), ws.tile,
                            pc == 0 ? pr.bias() : null, pr.biasOff() + jc);
                    if (pr.epilogue() != null && pc + kc == k) pr.epilogue().apply(pr.c(), pr.cOff(), pr.ldc(), ic, mc, jc, nc);
                }
            }
        }
    }

    /**
     * Walks the micro-tiles of one packed A block times one packed B panel (which starts at
     * {@code bOff}). Each B micro-panel is reused by every A micro-panel of the block before
     * moving on, so it is read from L1/L2 while the A block stays in L2.
     */
    private static void multiplyPackedBlocks(int mc, int nc, int kc, float[] packedA, float[] packedB,
                                             int bOff, float beta, float[] c, int cOff, int ldc,
                                             float[] tile, float[] bias, int biasOff) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int bPanel = bOff + jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int rows = Math.min(MR, mc - ir);
                microKernel(kc, packedA, ir * kc, packedB, bPanel, tile);
                int cTile = cOff + ir * ldc + jr;
                if (rows == MR && cols == NR) {
                    if (bias == null) {
                        mergeFullTile(tile, beta, c, cTile, ldc);
                    } else {
                        mergeFullTileWithBias(tile, beta, c, cTile, ldc, bias, biasOff + jr);
                    }
                } else {
                    mergeEdgeTile(tile, rows, cols, beta, c, cTile, ldc, bias, biasOff + jr);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Micro-kernel

    /**
     * tile[MR x NR] = sum over p of A[:, p] (outer product) B[p, :], where the packed A panel
     * holds MR values per p and the packed B panel NR values per p.
     *
     * <p>The 16 accumulators are spelled out as locals on purpose: that is what lets the JIT keep
     * them in registers for the whole loop (arrays of vectors would be spilled and boxed).
     *
     * <p>The k loop is unrolled four times by hand. C2 does not unroll a loop body this large, and
     * one k step per iteration leaves about fifteen scalar instructions (index arithmetic, the
     * two vector loads' bounds checks, the loop test) beside every 16 FMAs; on Intel cores some of
     * them issue on the two ports that also run the 512-bit FMAs. Four steps per iteration cut
     * that share by four: +8-12 % per CPU second on the ViT shapes on the Sapphire Rapids host
     * (bench/README.md). The broadcasts compile to {@code vbroadcastss zmm, [mem]}, a load-port
     * instruction, so they do not compete with the FMAs (checked in the generated code).
     *
     * <p>The result goes to a small scratch tile rather than straight into C. Folding the
     * {@code beta * C} update in here would make the method so large, once the Vector API calls
     * are inlined, that C2 stops inlining part-way through (NodeCountInliningCutoff); every vector
     * that then crosses a call boundary is boxed and the kernel runs ~10x slower. Writing and
     * re-reading 16 vectors in L1 costs about 1% of a k slice of a few hundred.
     */
    private static void microKernel(int kc, float[] a, int aOff, float[] b, int bOff, float[] tile) {
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector acc00 = zero, acc01 = zero, acc10 = zero, acc11 = zero;
        FloatVector acc20 = zero, acc21 = zero, acc30 = zero, acc31 = zero;
        FloatVector acc40 = zero, acc41 = zero, acc50 = zero, acc51 = zero;
        FloatVector acc60 = zero, acc61 = zero, acc70 = zero, acc71 = zero;
        // The register tile written out row by row, four k steps per iteration (the repeated
        // triples are rows of A and the repeated blocks k steps, not copies to factor):
        // accumulators must be locals for C2 to keep them in registers, and an array or a loop
        // over them would spill or box.
        // kc is a multiple of K_UNROLL (the packed slices are zero-padded): one loop, always
        // entered, and no remainder loop whose first use would recompile the method.
        for (int p = 0; p < kc; p += K_UNROLL) {
            int aRow = aOff + p * MR;
            int bRow = bOff + p * NR;
            FloatVector b00 = FloatVector.fromArray(SPECIES, b, bRow);
            FloatVector b01 = FloatVector.fromArray(SPECIES, b, bRow + VLEN);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[aRow]);
            acc00 = a0.fma(b00, acc00);
            acc01 = a0.fma(b01, acc01);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 1]);
            acc10 = a0.fma(b00, acc10);
            acc11 = a0.fma(b01, acc11);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 2]);
            acc20 = a0.fma(b00, acc20);
            acc21 = a0.fma(b01, acc21);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 3]);
            acc30 = a0.fma(b00, acc30);
            acc31 = a0.fma(b01, acc31);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 4]);
            acc40 = a0.fma(b00, acc40);
            acc41 = a0.fma(b01, acc41);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 5]);
            acc50 = a0.fma(b00, acc50);
            acc51 = a0.fma(b01, acc51);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 6]);
            acc60 = a0.fma(b00, acc60);
            acc61 = a0.fma(b01, acc61);
            a0 = FloatVector.broadcast(SPECIES, a[aRow + 7]);
            acc70 = a0.fma(b00, acc70);
            acc71 = a0.fma(b01, acc71);
            FloatVector b10 = FloatVector.fromArray(SPECIES, b, bRow + 2 * VLEN);
            FloatVector b11 = FloatVector.fromArray(SPECIES, b, bRow + 2 * VLEN + VLEN);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[aRow + 8]);
            acc00 = a1.fma(b10, acc00);
            acc01 = a1.fma(b11, acc01);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 9]);
            acc10 = a1.fma(b10, acc10);
            acc11 = a1.fma(b11, acc11);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 10]);
            acc20 = a1.fma(b10, acc20);
            acc21 = a1.fma(b11, acc21);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 11]);
            acc30 = a1.fma(b10, acc30);
            acc31 = a1.fma(b11, acc31);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 12]);
            acc40 = a1.fma(b10, acc40);
            acc41 = a1.fma(b11, acc41);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 13]);
            acc50 = a1.fma(b10, acc50);
            acc51 = a1.fma(b11, acc51);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 14]);
            acc60 = a1.fma(b10, acc60);
            acc61 = a1.fma(b11, acc61);
            a1 = FloatVector.broadcast(SPECIES, a[aRow + 15]);
            acc70 = a1.fma(b10, acc70);
            acc71 = a1.fma(b11, acc71);
            FloatVector b20 = FloatVector.fromArray(SPECIES, b, bRow + 4 * VLEN);
            FloatVector b21 = FloatVector.fromArray(SPECIES, b, bRow + 4 * VLEN + VLEN);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[aRow + 16]);
            acc00 = a2.fma(b20, acc00);
            acc01 = a2.fma(b21, acc01);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 17]);
            acc10 = a2.fma(b20, acc10);
            acc11 = a2.fma(b21, acc11);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 18]);
            acc20 = a2.fma(b20, acc20);
            acc21 = a2.fma(b21, acc21);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 19]);
            acc30 = a2.fma(b20, acc30);
            acc31 = a2.fma(b21, acc31);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 20]);
            acc40 = a2.fma(b20, acc40);
            acc41 = a2.fma(b21, acc41);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 21]);
            acc50 = a2.fma(b20, acc50);
            acc51 = a2.fma(b21, acc51);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 22]);
            acc60 = a2.fma(b20, acc60);
            acc61 = a2.fma(b21, acc61);
            a2 = FloatVector.broadcast(SPECIES, a[aRow + 23]);
            acc70 = a2.fma(b20, acc70);
            acc71 = a2.fma(b21, acc71);
            FloatVector b30 = FloatVector.fromArray(SPECIES, b, bRow + 6 * VLEN);
            FloatVector b31 = FloatVector.fromArray(SPECIES, b, bRow + 6 * VLEN + VLEN);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[aRow + 24]);
            acc00 = a3.fma(b30, acc00);
            acc01 = a3.fma(b31, acc01);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 25]);
            acc10 = a3.fma(b30, acc10);
            acc11 = a3.fma(b31, acc11);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 26]);
            acc20 = a3.fma(b30, acc20);
            acc21 = a3.fma(b31, acc21);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 27]);
            acc30 = a3.fma(b30, acc30);
            acc31 = a3.fma(b31, acc31);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 28]);
            acc40 = a3.fma(b30, acc40);
            acc41 = a3.fma(b31, acc41);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 29]);
            acc50 = a3.fma(b30, acc50);
            acc51 = a3.fma(b31, acc51);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 30]);
            acc60 = a3.fma(b30, acc60);
            acc61 = a3.fma(b31, acc61);
            a3 = FloatVector.broadcast(SPECIES, a[aRow + 31]);
            acc70 = a3.fma(b30, acc70);
            acc71 = a3.fma(b31, acc71);
        }
        acc00.intoArray(tile, 0);
        acc01.intoArray(tile, VLEN);
        acc10.intoArray(tile, NR);
        acc11.intoArray(tile, NR + VLEN);
        acc20.intoArray(tile, 2 * NR);
        acc21.intoArray(tile, 2 * NR + VLEN);
        acc30.intoArray(tile, 3 * NR);
        acc31.intoArray(tile, 3 * NR + VLEN);
        acc40.intoArray(tile, 4 * NR);
        acc41.intoArray(tile, 4 * NR + VLEN);
        acc50.intoArray(tile, 5 * NR);
        acc51.intoArray(tile, 5 * NR + VLEN);
        acc60.intoArray(tile, 6 * NR);
        acc61.intoArray(tile, 6 * NR + VLEN);
        acc70.intoArray(tile, 7 * NR);
        acc71.intoArray(tile, 7 * NR + VLEN);
    }

    /** C[0:MR, 0:NR] = beta * C + tile, vector by vector. */
    private static void mergeFullTile(float[] tile, float beta, float[] c, int cOff, int ldc) {
        if (beta == 0f) {
            // Overwrite without reading: C may hold garbage, and 0 * NaN would be NaN.
            for (int r = 0; r < MR; r++) {
                for (int v = 0; v < NR; v += VLEN) {
                    FloatVector.fromArray(SPECIES, tile, r * NR + v).intoArray(c, cOff + r * ldc + v);
                }
            }
            return;
        }
        FloatVector betaV = FloatVector.broadcast(SPECIES, beta);
        for (int r = 0; r < MR; r++) {
            for (int v = 0; v < NR; v += VLEN) {
                int ci = cOff + r * ldc + v;
                FloatVector t = FloatVector.fromArray(SPECIES, tile, r * NR + v);
                FloatVector.fromArray(SPECIES, c, ci).fma(betaV, t).intoArray(c, ci);
            }
        }
    }

    /** C[0:MR, 0:NR] = beta * C + tile + bias (one bias value per column). */
    private static void mergeFullTileWithBias(float[] tile, float beta, float[] c, int cOff, int ldc,
                                              float[] bias, int biasOff) {
        if (beta == 0f) {
            for (int v = 0; v < NR; v += VLEN) {
                FloatVector b = FloatVector.fromArray(SPECIES, bias, biasOff + v);
                for (int r = 0; r < MR; r++) {
                    FloatVector.fromArray(SPECIES, tile, r * NR + v).add(b).intoArray(c, cOff + r * ldc + v);
                }
            }
            return;
        }
        FloatVector betaV = FloatVector.broadcast(SPECIES, beta);
        for (int v = 0; v < NR; v += VLEN) {
            FloatVector b = FloatVector.fromArray(SPECIES, bias, biasOff + v);
            for (int r = 0; r < MR; r++) {
                int ci = cOff + r * ldc + v;
                FloatVector.fromArray(SPECIES, c, ci).fma(betaV, FloatVector.fromArray(SPECIES, tile, r * NR + v).add(b))
                        .intoArray(c, ci);
            }
        }
    }

    /** Adds the valid rows x cols corner of a computed tile (plus the bias, if any) into C. */
    private static void mergeEdgeTile(float[] tile, int rows, int cols, float beta,
                                      float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        for (int r = 0; r < rows; r++) {
            int cRow = cOff + r * ldc;
            int tRow = r * NR;
            if (beta == 0f && bias == null) {
                System.arraycopy(tile, tRow, c, cRow, cols);
            } else {
                for (int j = 0; j < cols; j++) {
                    float v = bias == null ? tile[tRow + j] : tile[tRow + j] + bias[biasOff + j];
                    c[cRow + j] = beta == 0f ? v : beta * c[cRow + j] + v;
                }
            }
        }
    }

    private static void addBias(int m, int n, float[] bias, int biasOff, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                c[cOff + i * ldc + j] += bias[biasOff + j];
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Packing

    /**
     * Packs rows [ic, ic+mc) and k-range [pc, pc+kc) of alpha * op(A) into micro-panels of MR
     * rows: panel t holds, for each p, the MR values A[ic + t*MR + r][pc + p] (r = 0..MR-1)
     * next to each other. Rows past the end are zero, so the last panel is a full one.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc,
                      float alpha, float[] packed) {
        int kp = paddedK(kc);
        for (int panelRow = 0; panelRow < mc; panelRow += MR) {
            int rows = Math.min(MR, mc - panelRow);
            int dst = panelRow * kp;
            java.util.Arrays.fill(packed, dst + kc * MR, dst + kp * MR, 0f);
            int firstRow = ic + panelRow;
            if (transA && rows == MR && alpha == 1f) {
                // op(A) row i is column i of the stored matrix: each p gives MR adjacent values,
                // one short copy. (Not a 256-bit vector: a second vector shape in the process
                // pollutes the type profiles the Vector API intrinsics rely on on JDK 17, and
                // every other kernel then runs boxed.)
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(a, aOff + (pc + p) * lda + firstRow, packed, dst + p * MR, MR);
                }
            } else if (transA) {
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (pc + p) * lda + firstRow;
                    int d = dst + p * MR;
                    for (int r = 0; r < rows; r++) {
                        packed[d + r] = alpha * a[src + r];
                    }
                    for (int r = rows; r < MR; r++) {
                        packed[d + r] = 0f;
                    }
                }
            } else if (rows == MR) {
                packRowsInterleaved(a, aOff + firstRow * lda + pc, lda, kc, alpha, packed, dst);
            } else {
                for (int r = 0; r < MR; r++) {
                    int src = aOff + (firstRow + r) * lda + pc;
                    for (int p = 0; p < kc; p++) {
                        packed[dst + p * MR + r] = r < rows ? alpha * a[src + p] : 0f;
                    }
                }
            }
        }
    }

    /**
     * Interleaves MR full rows of a row-major A: out[p*MR + r] = alpha * A[r][p]. Going row by
     * row reads memory sequentially, which measured faster than gathering one column at a time.
     * Vector alternatives all lost on JDK 17: gathers and scatters are slow on this CPU, and an
     * in-register transpose built from rearrange/blend is not fully intrinsified (8x slower).
     */
    private static void packRowsInterleaved(float[] a, int src, int lda, int kc, float alpha,
                                            float[] packed, int dst) {
        for (int r = 0; r < MR; r++) {
            int row = src + r * lda;
            int d = dst + r;
            for (int p = 0; p < kc; p++) {
                packed[d + p * MR] = alpha * a[row + p];
            }
        }
    }

    /**
     * Packs k-range [pc, pc+kc) and columns [jc, jc+nc) of op(B) into micro-panels of NR columns:
     * panel t holds, for each p, the NR values B[pc + p][jc + t*NR + j] next to each other.
     * Columns past the end are zero.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                      float[] packed, int packedOff) {
        int kp = paddedK(kc);
        for (int panelCol = 0; panelCol < nc; panelCol += NR) {
            int cols = Math.min(NR, nc - panelCol);
            int dst = packedOff + panelCol * kp;
            java.util.Arrays.fill(packed, dst + kc * NR, dst + kp * NR, 0f);
            int firstCol = jc + panelCol;
            if (transB) {
                // op(B) column j is row j of the stored matrix; read each stored row once.
                for (int j = 0; j < cols; j++) {
                    int src = bOff + (firstCol + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) {
                        packed[dst + p * NR + j] = b[src + p];
                    }
                }
                for (int j = cols; j < NR; j++) {
                    for (int p = 0; p < kc; p++) {
                        packed[dst + p * NR + j] = 0f;
                    }
                }
            } else if (cols == NR) {
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (pc + p) * ldb + firstCol;
                    int d = dst + p * NR;
                    FloatVector.fromArray(SPECIES, b, src).intoArray(packed, d);
                    FloatVector.fromArray(SPECIES, b, src + VLEN).intoArray(packed, d + VLEN);
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (pc + p) * ldb + firstCol;
                    int d = dst + p * NR;
                    System.arraycopy(b, src, packed, d, cols);
                    java.util.Arrays.fill(packed, d + cols, d + NR, 0f);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        private float[] packedA = new float[0];
        private float[] packedB = new float[0];
        final float[] tile = new float[MR * NR];

        float[] packedA(int size) {
            if (packedA.length < size) {
                packedA = new float[size];
            }
            return packedA;
        }

        float[] packedB(int size) {
            if (packedB.length < size) {
                packedB = new float[size];
            }
            return packedB;
        }
    }

    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    private static void checkArguments(boolean transA, boolean transB, int m, int n, int k,
                                       int lda, int ldb, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative dimension: m=" + m + " n=" + n + " k=" + k);
        }
        int minLda = transA ? m : k;
        int minLdb = transB ? k : n;
        if (lda < Math.max(1, minLda) || ldb < Math.max(1, minLdb) || ldc < Math.max(1, n)) {
            throw new IllegalArgumentException("leading dimension too small: lda=" + lda
                    + " ldb=" + ldb + " ldc=" + ldc + " for m=" + m + " n=" + n + " k=" + k);
        }
    }

    /**
     * The depth of a packed k slice: kc rounded up to a multiple of {@link #K_UNROLL}, the extra
     * rows of each A and B micro-panel being zeros (they add nothing), so the micro-kernel's
     * unrolled loop needs no remainder loop.
     */
    static int paddedK(int kc) {
        return roundUp(kc, K_UNROLL);
    }

    private static int roundUp(int value, int multiple) {
        return ceilDiv(value, multiple) * multiple;
    }

    private static int ceilDiv(int value, int divisor) {
        return (value + divisor - 1) / divisor;
    }
}
