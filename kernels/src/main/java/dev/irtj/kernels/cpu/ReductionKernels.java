package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.KernelBlocks.ROW_BLOCK;
import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.rowCost;

/**
 * F32 sums in a fixed order: down the columns of a row block, along each row, and the horizontal
 * sums (lanes of a vector, a row, a dot product) the other row kernels use.
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.reduce} (SUM over the leading or last dims).
 *
 * <p>Determinism: horizontal sums add vector lanes in a fixed pairwise tree rather than through
 * {@code reduceLanes(ADD)} (whose order may differ between the interpreter and C2); cross-row sums
 * are formed per fixed block of {@value KernelBlocks#ROW_BLOCK} rows and combined in a fixed
 * pairwise tree, so a result depends on neither the thread split nor the JIT tier.
 */
public final class ReductionKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private ReductionKernels() {
    }

    /**
     * Column sums of a [rows × n] block: out[outOff + j] = Σ_r x[r, j]. Each column is summed in row
     * order within fixed blocks of {@value KernelBlocks#ROW_BLOCK} rows, and the block sums are
     * combined in a fixed pairwise tree.
     */
    public static void sumDownColumns(float[] x, int xOff, float[] out, int outOff, int rows, int n) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("out", out, outOff, 1, n);
        if (rows <= ROW_BLOCK) {
            // One block: columns are independent, so split them (a column's sum is the same
            // sequence of additions whichever chunk, vector lane or tail computes it).
            Parallel.forRange(n, Math.max(1, rows), (c0, c1) -> addColumns(x, xOff, rows, n, c0, c1, out, outOff));
            return;
        }
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        float[] partial = new float[blocks * n];
        Parallel.forRange(blocks, (long) ROW_BLOCK * n, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                int r0 = blk * ROW_BLOCK, r1 = Math.min(rows, r0 + ROW_BLOCK);
                addColumns(x, xOff + r0 * n, r1 - r0, n, 0, n, partial, blk * n);
            }
        });
        combineBlocks(partial, blocks, n);
        System.arraycopy(partial, 0, out, outOff, n);
    }

    /** out[oo + j] = Σ_{r < rows} x[xo + r·n + j] for j in [c0, c1), rows added in order. */
    private static void addColumns(float[] x, int xo, int rows, int n, int c0, int c1, float[] out, int oo) {
        if (rows == 0) {
            java.util.Arrays.fill(out, oo + c0, oo + c1, 0f);
            return;
        }
        System.arraycopy(x, xo + c0, out, oo + c0, c1 - c0);
        for (int r = 1; r < rows; r++) {
            int ro = xo + r * n, j = c0;
            for (; j <= c1 - L; j += L) {
                FloatVector.fromArray(S, out, oo + j).add(FloatVector.fromArray(S, x, ro + j)).intoArray(out, oo + j);
            }
            for (; j < c1; j++) out[oo + j] += x[ro + j];
        }
    }

    /** Row sums of a [rows × n] block: out[outOff + r] = Σ_j x[r, j]. */
    public static void sumAlongRows(float[] x, int xOff, float[] out, int outOff, int rows, int n) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("out", out, outOff, rows, 1);
        Parallel.forRange(rows, rowCost(n, 1), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) out[outOff + r] = sum(x, xOff + r * n, n, scratch);
        });
    }

    /** Row blocks of {@code p} ([blocks × n]) summed into block 0 by a fixed pairwise tree. */
    static void combineBlocks(float[] p, int blocks, int n) {
        if (blocks <= 1) return;
        Parallel.forRange(n, blocks, (c0, c1) -> {
            for (int step = 1; step < blocks; step <<= 1) {
                for (int b = 0; b + step < blocks; b += 2 * step) {
                    int dst = b * n, src = (b + step) * n, j = c0;
                    for (; j <= c1 - L; j += L) {
                        FloatVector.fromArray(S, p, dst + j).add(FloatVector.fromArray(S, p, src + j)).intoArray(p, dst + j);
                    }
                    for (; j < c1; j++) p[dst + j] += p[src + j];
                }
            }
        });
    }

    /**
     * The lanes a vector left in {@code scratch} (by intoArray; overwritten), added in a fixed
     * order, unlike reduceLanes(ADD). Taking the array rather than the vector keeps FloatVectors
     * out of call signatures, where a failed inlining would box them.
     */
    static float addLanes(float[] s) {
        // A fixed pairwise tree (lane i + lane i + w for w = L/2, ..., 1), in registers for the
        // usual widths: short dependency chains, unlike a running sum.
        if (L == 16) {
            float a0 = s[0] + s[8], a1 = s[1] + s[9], a2 = s[2] + s[10], a3 = s[3] + s[11];
            float a4 = s[4] + s[12], a5 = s[5] + s[13], a6 = s[6] + s[14], a7 = s[7] + s[15];
            return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
        }
        if (L == 8) {
            float a0 = s[0] + s[4], a1 = s[1] + s[5], a2 = s[2] + s[6], a3 = s[3] + s[7];
            return (a0 + a2) + (a1 + a3);
        }
        for (int w = L >> 1; w > 0; w >>= 1) {
            for (int i = 0; i < w; i++) s[i] += s[i + w];
        }
        return s[0];
    }

    /** Σ a[ao + j], four vector accumulators. */
    static float sum(float[] a, int ao, int n, float[] scratch) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            a0 = a0.add(FloatVector.fromArray(S, a, ao + j));
            a1 = a1.add(FloatVector.fromArray(S, a, ao + j + L));
            a2 = a2.add(FloatVector.fromArray(S, a, ao + j + 2 * L));
            a3 = a3.add(FloatVector.fromArray(S, a, ao + j + 3 * L));
        }
        for (; j <= n - L; j += L) a0 = a0.add(FloatVector.fromArray(S, a, ao + j));
        a0.add(a1).add(a2.add(a3)).intoArray(scratch, 0);
        float s = addLanes(scratch);
        for (; j < n; j++) s += a[ao + j];
        return s;
    }

    /** Σ a·b, four vector accumulators. */
    static float dot(float[] a, int ao, float[] b, int bo, int n, float[] scratch) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            a0 = FloatVector.fromArray(S, a, ao + j).fma(FloatVector.fromArray(S, b, bo + j), a0);
            a1 = FloatVector.fromArray(S, a, ao + j + L).fma(FloatVector.fromArray(S, b, bo + j + L), a1);
            a2 = FloatVector.fromArray(S, a, ao + j + 2 * L).fma(FloatVector.fromArray(S, b, bo + j + 2 * L), a2);
            a3 = FloatVector.fromArray(S, a, ao + j + 3 * L).fma(FloatVector.fromArray(S, b, bo + j + 3 * L), a3);
        }
        for (; j <= n - L; j += L) a0 = FloatVector.fromArray(S, a, ao + j).fma(FloatVector.fromArray(S, b, bo + j), a0);
        a0.add(a1).add(a2.add(a3)).intoArray(scratch, 0);
        float s = addLanes(scratch);
        for (; j < n; j++) s = Math.fma(a[ao + j], b[bo + j], s);
        return s;
    }
}
