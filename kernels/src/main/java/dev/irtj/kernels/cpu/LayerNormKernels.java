package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.KernelBlocks.ROW_BLOCK;
import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.rowCost;
import static dev.irtj.kernels.cpu.ReductionKernels.addLanes;
import static dev.irtj.kernels.cpu.ReductionKernels.combineBlocks;
import static dev.irtj.kernels.cpu.ReductionKernels.sum;

/**
 * Layer norm over each row of a [rows × n] F32 block, forward (with its mean and 1/std) and
 * backward (dx, and the weight and bias gradients summed over rows in fixed blocks of
 * {@value KernelBlocks#ROW_BLOCK} rows combined by a fixed tree, so they are deterministic).
 * Per-row outputs ({@code mean}, {@code rstd}) and the parameters {@code w}/{@code b}/{@code dw}/{@code db}
 * start at index 0.
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.layerNorm / layerNormBackward}; CUDA twin
 * {@code native/src/cuda/layernorm.cu}.
 */
public final class LayerNormKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private LayerNormKernels() {
    }


    /**
     * y = (x − mean)·rstd·w + b over each row of n, with mean and biased variance by two passes
     * (the second also corrects the mean) and rstd = 1/√(var + eps). {@code w} and {@code b} (length n) may be null (1 and 0);
     * {@code mean} and {@code rstd} (length rows) receive the statistics, or are skipped when null.
     */
    public static void forward(float[] x, int xOff, float[] w, float[] b, float[] y, int yOff,
                               float[] mean, float[] rstd, int rows, int n, float eps) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("y", y, yOff, rows, n);
        if (w != null) checkBlock("w", w, 0, 1, n);
        if (b != null) checkBlock("b", b, 0, 1, n);
        if (mean != null) checkBlock("mean", mean, 0, rows, 1);
        if (rstd != null) checkBlock("rstd", rstd, 0, rows, 1);
        Parallel.forRange(rows, rowCost(n, 6), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) layerNormRow(x, xOff + r * n, w, b, y, yOff + r * n, mean, rstd, r, n, eps, scratch);
        });
    }

    /**
     * The residual add and the layer norm after it, one row at a time: h = x + r, then
     * {@link #forward}'s normalisation of that row of h while it is in L1, so h is written once
     * and never read back from memory. Bit for bit the add followed by {@link #forward}.
     */
    public static void addForward(float[] x, int xOff, float[] r, int rOff, float[] w, float[] b, float[] h, int hOff,
                                  float[] y, int yOff, float[] mean, float[] rstd, int rows, int n, float eps) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("r", r, rOff, rows, n);
        checkBlock("h", h, hOff, rows, n);
        checkBlock("y", y, yOff, rows, n);
        if (w != null) checkBlock("w", w, 0, 1, n);
        if (b != null) checkBlock("b", b, 0, 1, n);
        if (mean != null) checkBlock("mean", mean, 0, rows, 1);
        if (rstd != null) checkBlock("rstd", rstd, 0, rows, 1);
        Parallel.forRange(rows, rowCost(n, 8), (from, to) -> {
            float[] scratch = new float[L];
            for (int row = from; row < to; row++) {
                int xo = xOff + row * n, ro = rOff + row * n, ho = hOff + row * n;
                int j = 0;
                for (; j <= n - L; j += L) {
                    FloatVector.fromArray(S, x, xo + j).add(FloatVector.fromArray(S, r, ro + j)).intoArray(h, ho + j);
                }
                for (; j < n; j++) h[ho + j] = x[xo + j] + r[ro + j];
                layerNormRow(h, ho, w, b, y, yOff + row * n, mean, rstd, row, n, eps, scratch);
            }
        });
    }

    private static void layerNormRow(float[] x, int xo, float[] w, float[] b, float[] y, int yo,
                                     float[] meanOut, float[] rstdOut, int r, int n, float eps, float[] scratch) {
        // Corrected two-pass statistics: with d = x − m0 around the first-pass mean m0,
        // mean = m0 + Σd/n and var = (Σd² − (Σd)²/n)/n, which repairs m0's own rounding error
        // (that would otherwise shift every x̂ when |mean| ≫ std).
        float m0 = sum(x, xo, n, scratch) / n;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, q0 = a0, q1 = a0;
        int j = 0;
        for (; j <= n - 2 * L; j += 2 * L) {
            FloatVector d0 = FloatVector.fromArray(S, x, xo + j).sub(m0);
            FloatVector d1 = FloatVector.fromArray(S, x, xo + j + L).sub(m0);
            a0 = a0.add(d0);
            a1 = a1.add(d1);
            q0 = d0.fma(d0, q0);
            q1 = d1.fma(d1, q1);
        }
        for (; j <= n - L; j += L) {
            FloatVector d = FloatVector.fromArray(S, x, xo + j).sub(m0);
            a0 = a0.add(d);
            q0 = d.fma(d, q0);
        }
        a0.add(a1).intoArray(scratch, 0);
        float sd = addLanes(scratch);
        q0.add(q1).intoArray(scratch, 0);
        float ss = addLanes(scratch);
        for (; j < n; j++) {
            float d = x[xo + j] - m0;
            sd += d;
            ss = Math.fma(d, d, ss);
        }
        double dm = (double) sd / n;
        float mu = (float) (m0 + dm);
        double var = Math.max(0.0, (ss - sd * dm) / n);
        float rs = (float) (1.0 / Math.sqrt(var + eps));
        if (meanOut != null) meanOut[r] = mu;
        if (rstdOut != null) rstdOut[r] = rs;

        // x − mean as (x − m0) − dmf: m0 + dmf carries the mean to more than float precision
        float dmf = (float) dm;
        j = 0;
        if (w != null && b != null) {
            for (; j <= n - L; j += L) {
                FloatVector xh = FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs);
                xh.fma(FloatVector.fromArray(S, w, j), FloatVector.fromArray(S, b, j)).intoArray(y, yo + j);
            }
            for (; j < n; j++) y[yo + j] = Math.fma((x[xo + j] - m0 - dmf) * rs, w[j], b[j]);
        } else if (w != null) {
            for (; j <= n - L; j += L) {
                FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs).mul(FloatVector.fromArray(S, w, j)).intoArray(y, yo + j);
            }
            for (; j < n; j++) y[yo + j] = (x[xo + j] - m0 - dmf) * rs * w[j];
        } else if (b != null) {
            for (; j <= n - L; j += L) {
                FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs).add(FloatVector.fromArray(S, b, j)).intoArray(y, yo + j);
            }
            for (; j < n; j++) y[yo + j] = (x[xo + j] - m0 - dmf) * rs + b[j];
        } else {
            for (; j <= n - L; j += L) FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs).intoArray(y, yo + j);
            for (; j < n; j++) y[yo + j] = (x[xo + j] - m0 - dmf) * rs;
        }
    }

    /**
     * Layer-norm gradients from the forward's mean and rstd (length rows, at 0): with x̂ = (x − mean)·rstd
     * and g = dy·w, dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); dw = Σ_rows dy·x̂ and db = Σ_rows dy are
     * overwritten when non-null. {@code w} may be null (all ones).
     * The row sums are deterministic: partial sums over fixed blocks of {@value KernelBlocks#ROW_BLOCK} rows,
     * combined in a fixed pairwise tree.
     */
    public static void backward(float[] dy, int dyOff, float[] x, int xOff, float[] w, float[] mean, float[] rstd,
                                float[] dx, int dxOff, float[] dw, float[] db, int rows, int n) {
        checkBlock("dy", dy, dyOff, rows, n);
        checkBlock("x", x, xOff, rows, n);
        checkBlock("dx", dx, dxOff, rows, n);
        checkBlock("mean", mean, 0, rows, 1);
        checkBlock("rstd", rstd, 0, rows, 1);
        if (w != null) checkBlock("w", w, 0, 1, n);
        if (dw != null) checkBlock("dw", dw, 0, 1, n);
        if (db != null) checkBlock("db", db, 0, 1, n);
        float[] wv = w != null ? w : ones(n);
        if (dw == null && db == null) {
            Parallel.forRange(rows, rowCost(n, 10), (from, to) -> {
                float[] scratch = new float[L];
                for (int r = from; r < to; r++) {
                    layerNormBackwardRow(dy, dyOff + r * n, x, xOff + r * n, wv, mean[r], rstd[r], dx, dxOff + r * n,
                            null, null, 0, n, scratch);
                }
            });
            return;
        }
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        if (blocks == 0) {
            if (dw != null) java.util.Arrays.fill(dw, 0, n, 0f);
            if (db != null) java.util.Arrays.fill(db, 0, n, 0f);
            return;
        }
        float[] pw = new float[blocks * n], pb = new float[blocks * n];
        Parallel.forRange(blocks, rowCost(n, 14) * ROW_BLOCK, (b0, b1) -> {
            float[] scratch = new float[L];
            for (int blk = b0; blk < b1; blk++) {
                int r1 = Math.min(rows, (blk + 1) * ROW_BLOCK);
                for (int r = blk * ROW_BLOCK; r < r1; r++) {
                    layerNormBackwardRow(dy, dyOff + r * n, x, xOff + r * n, wv, mean[r], rstd[r], dx, dxOff + r * n,
                            pw, pb, blk * n, n, scratch);
                }
            }
        });
        combineBlocks(pw, blocks, n);
        combineBlocks(pb, blocks, n);
        if (dw != null) System.arraycopy(pw, 0, dw, 0, n);
        if (db != null) System.arraycopy(pb, 0, db, 0, n);
    }

    private static void layerNormBackwardRow(float[] dy, int go, float[] x, int xo, float[] w, float mu, float rs,
                                             float[] dx, int dxo, float[] pw, float[] pb, int po, int n, float[] scratch) {
        // The accumulation loops below have the shape of layerNormRow's statistics loop (two
        // accumulators per sum, then a one-vector loop, then addLanes) with other sums: sharing it
        // would pass FloatVectors between methods, which a failed inlining boxes (see ExpKernel).
        // pass 1: Σ g and Σ g·x̂ (and the block's dw, db partials)
        FloatVector g0 = FloatVector.zero(S), g1 = g0, h0 = g0, h1 = g0;
        int j = 0;
        if (pw != null) {
            for (; j <= n - 2 * L; j += 2 * L) {
                FloatVector d0 = FloatVector.fromArray(S, dy, go + j), d1 = FloatVector.fromArray(S, dy, go + j + L);
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector xh1 = FloatVector.fromArray(S, x, xo + j + L).sub(mu).mul(rs);
                FloatVector gg0 = d0.mul(FloatVector.fromArray(S, w, j)), gg1 = d1.mul(FloatVector.fromArray(S, w, j + L));
                g0 = g0.add(gg0);
                g1 = g1.add(gg1);
                h0 = gg0.fma(xh0, h0);
                h1 = gg1.fma(xh1, h1);
                d0.fma(xh0, FloatVector.fromArray(S, pw, po + j)).intoArray(pw, po + j);
                d1.fma(xh1, FloatVector.fromArray(S, pw, po + j + L)).intoArray(pw, po + j + L);
                d0.add(FloatVector.fromArray(S, pb, po + j)).intoArray(pb, po + j);
                d1.add(FloatVector.fromArray(S, pb, po + j + L)).intoArray(pb, po + j + L);
            }
            for (; j <= n - L; j += L) {
                FloatVector d0 = FloatVector.fromArray(S, dy, go + j);
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector gg0 = d0.mul(FloatVector.fromArray(S, w, j));
                g0 = g0.add(gg0);
                h0 = gg0.fma(xh0, h0);
                d0.fma(xh0, FloatVector.fromArray(S, pw, po + j)).intoArray(pw, po + j);
                d0.add(FloatVector.fromArray(S, pb, po + j)).intoArray(pb, po + j);
            }
        } else {
            for (; j <= n - 2 * L; j += 2 * L) {
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector xh1 = FloatVector.fromArray(S, x, xo + j + L).sub(mu).mul(rs);
                FloatVector gg0 = FloatVector.fromArray(S, dy, go + j).mul(FloatVector.fromArray(S, w, j));
                FloatVector gg1 = FloatVector.fromArray(S, dy, go + j + L).mul(FloatVector.fromArray(S, w, j + L));
                g0 = g0.add(gg0);
                g1 = g1.add(gg1);
                h0 = gg0.fma(xh0, h0);
                h1 = gg1.fma(xh1, h1);
            }
            for (; j <= n - L; j += L) {
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector gg0 = FloatVector.fromArray(S, dy, go + j).mul(FloatVector.fromArray(S, w, j));
                g0 = g0.add(gg0);
                h0 = gg0.fma(xh0, h0);
            }
        }
        g0.add(g1).intoArray(scratch, 0);
        float sumG = addLanes(scratch);
        h0.add(h1).intoArray(scratch, 0);
        float sumGX = addLanes(scratch);
        for (; j < n; j++) {
            float d = dy[go + j], xh = (x[xo + j] - mu) * rs, g = d * w[j];
            sumG += g;
            sumGX = Math.fma(g, xh, sumGX);
            if (pw != null) {
                pw[po + j] = Math.fma(d, xh, pw[po + j]);
                pb[po + j] += d;
            }
        }
        // pass 2: dx = rstd·(g − (x̂·mean(g·x̂) + mean(g)))
        float a = sumG / n, c = sumGX / n;
        j = 0;
        for (; j <= n - L; j += L) {
            FloatVector xh = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
            FloatVector g = FloatVector.fromArray(S, dy, go + j).mul(FloatVector.fromArray(S, w, j));
            g.sub(xh.fma(c, a)).mul(rs).intoArray(dx, dxo + j);
        }
        for (; j < n; j++) {
            float xh = (x[xo + j] - mu) * rs, g = dy[go + j] * w[j];
            dx[dxo + j] = (g - Math.fma(xh, c, a)) * rs;
        }
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }
}
