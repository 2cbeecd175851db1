package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.ReductionKernels.dot;

/**
 * Fused attention softmax(scale·q·kᵀ)·v in F32, flash-attention style, one (batch, head) block
 * at a time per thread of {@link Parallel}'s pool, the threads claiming blocks as they finish
 * ({@link Parallel#forEachItem}; a block is never split and writes only its own outputs, so
 * results do not depend on the thread count or timing). Reference: {@code dev.irtj.tensor.ReferenceAttention}.
 *
 * <p>Forward: tiles of {@value #MR} queries against tiles of {@link #BC} keys with the online
 * softmax (running max m and sum l per row; the output accumulator rescaled by e^(m_old − m_new)
 * when the max grows), so no more than one [MR × BC] tile of scores exists at a time; it keeps
 * the output and each row's log-sum-exp m + log l. Backward: per block of {@link #BR_BACKWARD}
 * queries and tile of keys, P = e^(scale·q·kᵀ − lse) is recomputed, dP = dO·vᵀ,
 * dS = scale·P∘(dP − D) with D_i = rowsum(dO∘O), and dq += dS·k, dk += dSᵀ·q, dv += Pᵀ·dO
 * (dk, dv for the whole block kept in the thread's workspace, then written once).
 *
 * <p>q, k, v are read strided where they are (for the packed qkv projection: row i of head h at
 * {@code base + i·3D + h·hd}), the output is written with heads interleaved ([B, N, H·hd]), and
 * the gradients go straight into their destinations (slices of one qkv gradient). Every product
 * is one register tile of {@value #MR} rows × 2 vectors, 16 independent FMA chains as in
 * {@link Sgemm}'s micro-kernel: {@link #tileRows} reads A along rows at any row offsets (strided
 * q and dO rows need no packing), {@link #tileColumns} down the columns of a P or dS tile (Pᵀ,
 * dSᵀ without a transposed copy). B is always a panel of NR columns, packed once per block: kᵀ
 * and vᵀ ({@link #packKeyPanels}, zero-padded to whole panels of keys) for q·kᵀ and dO·vᵀ, and v,
 * k, q, dO ({@link #packRowPanels}) for P·v, dS·k, dSᵀ·q and Pᵀ·dO. Both kernels index A and B
 * with compile-time strides (1 or {@link #BC}, and NR): C2 takes range checks out of a loop only
 * for an index that is a constant multiple of the loop variable plus an invariant, and the one
 * kernel with the strides as arguments, before branch attn4, could not have that (with the rest
 * of that branch, +5–9 % on a ViT training step; bench/README.md). Columns that do not fill two
 * vectors (an odd head_dim) take a scalar tail, {@link #tileTail}.
 * Hand-written rather than calling {@link Sgemm} per tile: Sgemm packs both operands of every
 * call, and these products are [8 × 32] tiles with k of 32 to 128.
 */
public final class AttentionKernels {
    private static final VectorSpecies<Float> S = Sgemm.SPECIES;
    private static final int L = S.length();
    /** Rows of the register tile, and queries per forward tile. */
    static final int MR = 8;
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * L;
    /**
     * Keys per tile: four register tiles wide (128 keys with AVX-512), so the output update's k
     * loop is BC long; the score tile [MR × BC] (4 KiB) and the backward's P and dS tiles
     * [BR_BACKWARD × BC] (16 KiB each) stay in L1. Measured on DeiT-S shapes (AttentionBench,
     * CPU time, one thread): 64 keys 13.8–15.8 ms forward, 128 keys 12.1–12.8 ms, 256 keys no
     * better; N = 197 then takes two key tiles, so the online softmax's rescaling is exercised.
     */
    static final int BC = 4 * NR;
    /**
     * Queries per backward block: four register tiles, so the dk and dv updates run BR_BACKWARD
     * long (64 measured no faster, and doubles the tiles).
     */
    static final int BR_BACKWARD = 4 * MR;

    /** MR x NR zeros, the starting value of a fresh {@link #tileRows}; never written. */
    private static final float[] ZERO_TILE = new float[MR * NR];

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private AttentionKernels() {
    }

    /**
     * Where a [B, H, N, hd] operand lives: its array, the offset of element 0 and its batch, head
     * and token strides; the head-dim stride is 1.
     */
    public record Operand(float[] a, int off, int strideB, int strideH, int strideN) {
        int base(int b, int h) {
            return off + b * strideB + h * strideH;
        }
    }

    /**
     * out [B, N, H·hd] (contiguous from outOff, heads interleaved) = softmax(scale·q·kᵀ)·v per
     * (b, h); lse [B, H, N] (contiguous from lseOff) = log Σ_j e^(scale·q_i·k_j).
     */
    public static void forward(Operand q, Operand k, Operand v, int batch, int heads, int n, int hd, float scale,
                               float[] out, int outOff, float[] lse, int lseOff) {
        checkBlock("out", out, outOff, batch * n, heads * hd);
        checkBlock("lse", lse, lseOff, batch * heads, n);
        Parallel.forEachItem(batch * heads, blockCost(n, hd), bh -> {
            Workspace ws = WORKSPACE.get();
            ws.ensure(n, hd);
            forwardBlock(q, k, v, bh / heads, bh % heads, heads, n, hd, scale, out, outOff, lse, lseOff, ws);
        });
    }

    /**
     * Writes dq, dk, dv (destinations of q's layout, head-dim stride 1) for upstream dOut [B, N, H·hd]
     * (contiguous from dOutOff), given the forward's out and lse.
     */
    public static void backward(Operand q, Operand k, Operand v, int batch, int heads, int n, int hd, float scale,
                                float[] out, int outOff, float[] lse, int lseOff, float[] dOut, int dOutOff,
                                Operand dq, Operand dk, Operand dv) {
        checkBlock("out", out, outOff, batch * n, heads * hd);
        checkBlock("dOut", dOut, dOutOff, batch * n, heads * hd);
        checkBlock("lse", lse, lseOff, batch * heads, n);
        Parallel.forEachItem(batch * heads, 2 * blockCost(n, hd), bh -> {
            Workspace ws = WORKSPACE.get();
            ws.ensure(n, hd);
            backwardBlock(q, k, v, bh / heads, bh % heads, heads, n, hd, scale, out, outOff, lse, lseOff,
                    dOut, dOutOff, dq, dk, dv, ws);
        });
    }

    private static long blockCost(int n, int hd) {
        return Math.max(1L, 4L * n * n * hd);
    }

    // ---- forward ------------------------------------------------------------------------------

    private static void forwardBlock(Operand q, Operand k, Operand v, int b, int h, int heads, int n, int hd, float scale,
                                     float[] out, int outOff, float[] lse, int lseOff, Workspace ws) {
        int qb = q.base(b, h), kb = k.base(b, h), vb = v.base(b, h);
        int nPad = ws.nPad;
        packKeyPanels(k.a(), kb, k.strideN(), n, hd, nPad, ws.kt);
        packRowPanels(v.a(), vb, v.strideN(), n, hd, ws.vp);
        for (int i0 = 0; i0 < n; i0 += MR) {
            int rows = Math.min(MR, n - i0);
            for (int r = 0; r < MR; r++) ws.rowOff[r] = qb + Math.min(i0 + r, n - 1) * q.strideN();
            Arrays.fill(ws.m, Float.NEGATIVE_INFINITY);
            Arrays.fill(ws.l, 0f);
            Arrays.fill(ws.acc, 0, MR * hd, 0f);
            for (int j0 = 0; j0 < n; j0 += BC) {
                int kv = Math.min(BC, n - j0);
                for (int c = 0; c < kv; c += NR) tileRows(hd, q.a(), ws.rowOff, ws.kt, keyPanel(j0 + c, hd), true, ws.s, c, BC);
                // All MR rows, so rows past the last query (copies of it) stay finite in the accumulator.
                onlineSoftmax(ws, MR, kv, hd, scale);
                // acc[r] += P[r, 0:kv]·v[j0 : j0 + kv]
                for (int d0 = 0; d0 < hd; d0 += NR) {
                    product(kv, ws.s, ws.tileRowsOfS, 1, ws.vp, rowPanel(d0, n, j0), Math.min(NR, hd - d0), ws.acc, d0, hd);
                }
            }
            int ld = heads * hd;
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                scaleRow(ws.acc, r * hd, hd, 1f / ws.l[r], out, outOff + (b * n + i) * ld + h * hd);
                lse[lseOff + (b * heads + h) * n + i] = ws.m[r] + (float) Math.log(ws.l[r]);
            }
        }
    }

    /**
     * Turns the scores tile s[r, 0:kv] into e^(scale·s − m_new) with m_new the running max, adds
     * the tile's sum into l (after scaling l by e^(m_old − m_new)), and rescales the output
     * accumulator row by the same factor.
     */
    private static void onlineSoftmax(Workspace ws, int rows, int kv, int hd, float scale) {
        int len = padScores(ws.s, 0, rows, kv, scale);
        for (int r = 0; r < rows; r++) {
            int so = r * BC;
            float mOld = ws.m[r];
            float mNew = Math.max(mOld, maxScaled(ws.s, so, len, scale));
            float alpha = mOld == Float.NEGATIVE_INFINITY ? 0f : ExpKernel.exp(mOld - mNew);
            ws.l[r] = ws.l[r] * alpha + ExpKernel.expScaledSum(ws.s, so, scale, -mNew, ws.s, so, len, ws.lanes);
            ws.m[r] = mNew;
            // The first key tile (mOld = -inf, alpha 0) finds the accumulator still zero.
            if (alpha != 1f && mOld != Float.NEGATIVE_INFINITY) scaleRow(ws.acc, r * hd, hd, alpha, ws.acc, r * hd);
        }
    }

    /**
     * Sets scores [kv, len) of each of rows rows (row r from so + r·BC) to -inf, len = kv rounded up
     * to a whole vector, and returns len: with a positive scale their exponentials are exactly 0
     * and the row max ignores them, so the row passes run whole vectors (a scalar tail cost more
     * than the vectors' extra lanes; bench/README.md, branch attn4). Products read only the first
     * kv columns, or the padded ones into padding. Any other scale keeps len = kv.
     */
    private static int padScores(float[] s, int so, int rows, int kv, float scale) {
        int len = (kv + L - 1) / L * L;
        if (len == kv || !(scale > 0f)) return kv;
        for (int r = 0; r < rows; r++) Arrays.fill(s, so + r * BC + kv, so + r * BC + len, Float.NEGATIVE_INFINITY);
        return len;
    }

    // ---- backward -----------------------------------------------------------------------------

    private static void backwardBlock(Operand q, Operand k, Operand v, int b, int h, int heads, int n, int hd, float scale,
                                      float[] out, int outOff, float[] lse, int lseOff, float[] dOut, int dOutOff,
                                      Operand dq, Operand dk, Operand dv, Workspace ws) {
        int qb = q.base(b, h), kb = k.base(b, h), vb = v.base(b, h);
        int ld = heads * hd, doBase = dOutOff + b * n * ld + h * hd, oBase = outOff + b * n * ld + h * hd;
        int lseBase = lseOff + (b * heads + h) * n;
        int nPad = ws.nPad;
        packKeyPanels(k.a(), kb, k.strideN(), n, hd, nPad, ws.kt);
        packKeyPanels(v.a(), vb, v.strideN(), n, hd, nPad, ws.vt);
        packRowPanels(k.a(), kb, k.strideN(), n, hd, ws.kp);
        packRowPanels(q.a(), qb, q.strideN(), n, hd, ws.qp);
        packRowPanels(dOut, doBase, ld, n, hd, ws.vp);
        for (int i = 0; i < n; i++) ws.rowDot[i] = dot(dOut, doBase + i * ld, out, oBase + i * ld, hd, ws.lanes);
        Arrays.fill(ws.dk, 0, ws.keyRows * hd, 0f);
        Arrays.fill(ws.dv, 0, ws.keyRows * hd, 0f);
        for (int i0 = 0; i0 < n; i0 += BR_BACKWARD) {
            int iv = Math.min(BR_BACKWARD, n - i0);
            Arrays.fill(ws.dq, 0, BR_BACKWARD * hd, 0f);
            for (int j0 = 0; j0 < n; j0 += BC) {
                int kv = Math.min(BC, n - j0);
                for (int g = 0; g < iv; g += MR) {
                    for (int r = 0; r < MR; r++) {
                        int i = Math.min(i0 + g + r, n - 1);
                        ws.rowOff[r] = qb + i * q.strideN();
                        ws.rowOff2[r] = doBase + i * ld;
                    }
                    for (int c = 0; c < kv; c += NR) {
                        tileRows(hd, q.a(), ws.rowOff, ws.kt, keyPanel(j0 + c, hd), true, ws.p, g * BC + c, BC);
                        tileRows(hd, dOut, ws.rowOff2, ws.vt, keyPanel(j0 + c, hd), true, ws.dp, g * BC + c, BC);
                    }
                }
                int len = padScores(ws.p, 0, iv, kv, scale);
                for (int r = 0; r < iv; r++) {
                    probabilitiesAndScoreGradient(ws.p, ws.dp, r * BC, len, scale, lse[lseBase + i0 + r], ws.rowDot[i0 + r]);
                }
                for (int d0 = 0; d0 < hd; d0 += NR) {
                    int cols = Math.min(NR, hd - d0);
                    for (int jg = 0; jg < kv; jg += MR) {
                        // Rows past the last key land in the padding of dk and dv, never written out.
                        for (int r = 0; r < MR; r++) ws.rowOff[r] = jg + r;
                        // dv[j] += Σ_i P[i, j]·dO[i];  dk[j] += Σ_i dS[i, j]·q[i]: columns of the tiles
                        product(iv, ws.p, ws.rowOff, BC, ws.vp, rowPanel(d0, n, i0), cols, ws.dv, (j0 + jg) * hd + d0, hd);
                        product(iv, ws.dp, ws.rowOff, BC, ws.qp, rowPanel(d0, n, i0), cols, ws.dk, (j0 + jg) * hd + d0, hd);
                    }
                    // dq[i] += Σ_j dS[i, j]·k[j]
                    for (int g = 0; g < iv; g += MR) {
                        for (int r = 0; r < MR; r++) ws.rowOff[r] = (g + r) * BC;
                        product(kv, ws.dp, ws.rowOff, 1, ws.kp, rowPanel(d0, n, j0), cols, ws.dq, g * hd + d0, hd);
                    }
                }
            }
            int dqb = dq.base(b, h);
            for (int r = 0; r < iv; r++) System.arraycopy(ws.dq, r * hd, dq.a(), dqb + (i0 + r) * dq.strideN(), hd);
        }
        int dkb = dk.base(b, h), dvb = dv.base(b, h);
        for (int j = 0; j < n; j++) {
            System.arraycopy(ws.dk, j * hd, dk.a(), dkb + j * dk.strideN(), hd);
            System.arraycopy(ws.dv, j * hd, dv.a(), dvb + j * dv.strideN(), hd);
        }
    }

    /**
     * Row po of the tiles: p[j] = e^(scale·s[j] − lse) (the probabilities, from the scores s held
     * in p), dp[j] = scale·p[j]·(dp[j] − D) (the gradient wrt the unscaled scores), j < kv.
     */
    private static void probabilitiesAndScoreGradient(float[] p, float[] dp, int po, int kv, float scale, float lse, float rowDot) {
        shift(p, po, kv, scale, -lse);
        ExpKernel.exp(p, po, p, po, kv);
        int j = 0;
        for (; j <= kv - L; j += L) {
            FloatVector pv = FloatVector.fromArray(S, p, po + j);
            FloatVector.fromArray(S, dp, po + j).sub(rowDot).mul(pv).mul(scale).intoArray(dp, po + j);
        }
        for (; j < kv; j++) dp[po + j] = (dp[po + j] - rowDot) * p[po + j] * scale;
    }

    // ---- the register tile --------------------------------------------------------------------

    /**
     * c[cOff + r·ldc + j] += Σ_{p < kc} a[rowOff[r] + p·aStep]·b[bOff + p·NR + j], r < MR, j < cols:
     * {@link #tileRows} (aStep 1) or {@link #tileColumns} (aStep {@link #BC}) when cols is two whole
     * vectors, else {@link #tileTail}. B is always a panel of NR columns (row stride NR).
     */
    private static void product(int kc, float[] a, int[] rowOff, int aStep, float[] b, int bOff, int cols,
                                float[] c, int cOff, int ldc) {
        if (cols < NR) tileTail(kc, a, rowOff, aStep, b, bOff, cols, c, cOff, ldc);
        else if (aStep == 1) tileRows(kc, a, rowOff, b, bOff, false, c, cOff, ldc);
        else tileColumns(kc, a, rowOff, b, bOff, c, cOff, ldc);
    }

    /**
     * c[cOff + r·ldc + j] (+)= Σ_{p < kc} a[rowOff[r] + p]·b[bOff + p·NR + j] for r < MR, j < NR:
     * all MR rows of c must exist (callers size their buffers to whole tiles). With {@code fresh}
     * the sums start from zero (a tile of scores), else from c (an accumulation: the output, dq).
     * The 16 accumulators are spelled out as locals so C2 keeps them in registers, as in Sgemm's
     * micro-kernel.
     */
    private static void tileRows(int kc, float[] a, int[] rowOff, float[] b, int bOff, boolean fresh, float[] c, int cOff, int ldc) {
        int a0 = rowOff[0], a1 = rowOff[1], a2 = rowOff[2], a3 = rowOff[3];
        int a4 = rowOff[4], a5 = rowOff[5], a6 = rowOff[6], a7 = rowOff[7];
        int r0 = cOff, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        // A fresh tile starts from a constant zero tile rather than from c, so c needs no fill
        // first (one pass over the tile fewer; no gain measured on its own).
        float[] from = fresh ? ZERO_TILE : c;
        int f0 = fresh ? 0 : cOff, fld = fresh ? NR : ldc;
        int f1 = f0 + fld, f2 = f1 + fld, f3 = f2 + fld, f4 = f3 + fld, f5 = f4 + fld, f6 = f5 + fld, f7 = f6 + fld;
        FloatVector c00 = FloatVector.fromArray(S, from, f0), c01 = FloatVector.fromArray(S, from, f0 + L);
        FloatVector c10 = FloatVector.fromArray(S, from, f1), c11 = FloatVector.fromArray(S, from, f1 + L);
        FloatVector c20 = FloatVector.fromArray(S, from, f2), c21 = FloatVector.fromArray(S, from, f2 + L);
        FloatVector c30 = FloatVector.fromArray(S, from, f3), c31 = FloatVector.fromArray(S, from, f3 + L);
        FloatVector c40 = FloatVector.fromArray(S, from, f4), c41 = FloatVector.fromArray(S, from, f4 + L);
        FloatVector c50 = FloatVector.fromArray(S, from, f5), c51 = FloatVector.fromArray(S, from, f5 + L);
        FloatVector c60 = FloatVector.fromArray(S, from, f6), c61 = FloatVector.fromArray(S, from, f6 + L);
        FloatVector c70 = FloatVector.fromArray(S, from, f7), c71 = FloatVector.fromArray(S, from, f7 + L);
        for (int p = 0; p < kc; p++) {
            int bRow = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bRow);
            FloatVector b1 = FloatVector.fromArray(S, b, bRow + L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[a5 + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[a6 + p]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[a7 + p]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }

    /**
     * c[cOff + r·ldc + j] += Σ_{p < kc} a[rowOff[r] + p·BC]·b[bOff + p·NR + j] for r < MR, j < NR:
     * A read down columns of a P or dS tile (row length {@link #BC}), i.e. Pᵀ·B and dSᵀ·B for dv
     * and dk. {@link #tileRows} with another A stride: one kernel with the stride as an argument
     * keeps its range checks in the loop (see the class comment).
     */
    private static void tileColumns(int kc, float[] a, int[] rowOff, float[] b, int bOff, float[] c, int cOff, int ldc) {
        int a0 = rowOff[0], a1 = rowOff[1], a2 = rowOff[2], a3 = rowOff[3];
        int a4 = rowOff[4], a5 = rowOff[5], a6 = rowOff[6], a7 = rowOff[7];
        int r0 = cOff, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, r0), c01 = FloatVector.fromArray(S, c, r0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, r1), c11 = FloatVector.fromArray(S, c, r1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, r2), c21 = FloatVector.fromArray(S, c, r2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, r3), c31 = FloatVector.fromArray(S, c, r3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, r4), c41 = FloatVector.fromArray(S, c, r4 + L);
        FloatVector c50 = FloatVector.fromArray(S, c, r5), c51 = FloatVector.fromArray(S, c, r5 + L);
        FloatVector c60 = FloatVector.fromArray(S, c, r6), c61 = FloatVector.fromArray(S, c, r6 + L);
        FloatVector c70 = FloatVector.fromArray(S, c, r7), c71 = FloatVector.fromArray(S, c, r7 + L);
        for (int p = 0; p < kc; p++) {
            int bRow = bOff + p * NR;
            int ap = p * BC;
            FloatVector b0 = FloatVector.fromArray(S, b, bRow);
            FloatVector b1 = FloatVector.fromArray(S, b, bRow + L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + ap]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + ap]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + ap]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + ap]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[a5 + ap]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[a6 + ap]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[a7 + ap]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }

    /** {@link #product} for cols < NR columns, in scalar loops (only an odd head_dim gets here). */
    private static void tileTail(int kc, float[] a, int[] rowOff, int aStep, float[] b, int bOff, int cols,
                                 float[] c, int cOff, int ldc) {
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < cols; j++) {
                float s = c[cOff + r * ldc + j];
                for (int p = 0; p < kc; p++) s = Math.fma(a[rowOff[r] + p * aStep], b[bOff + p * NR + j], s);
                c[cOff + r * ldc + j] = s;
            }
        }
    }

    // ---- row helpers --------------------------------------------------------------------------

    /**
     * kᵀ in panels of NR keys, for the right operand of q·kᵀ (and dO·vᵀ): key j, dimension d at
     * kt[(j / NR)·hd·NR + d·NR + j % NR] = x[base + j·stride + d], zero for n ≤ j < nPad.
     */
    private static void packKeyPanels(float[] x, int base, int stride, int n, int hd, int nPad, float[] kt) {
        // Panel by panel, dimension by dimension: the stores run sequentially, and the panel's NR
        // source rows (NR·hd floats) stay in L1 across the d loop.
        for (int j0 = 0; j0 < nPad; j0 += NR) {
            int keys = Math.max(0, Math.min(NR, n - j0)), panel = keyPanel(j0, hd);
            for (int d = 0; d < hd; d++) {
                int dst = panel + d * NR, src = base + j0 * stride + d;
                for (int j = 0; j < keys; j++) kt[dst + j] = x[src + j * stride];
                for (int j = keys; j < NR; j++) kt[dst + j] = 0f;
            }
        }
    }

    /** Where the panel of keys from j0 (a multiple of NR) starts in {@link #packKeyPanels}' layout. */
    private static int keyPanel(int j0, int hd) {
        return j0 * hd;
    }

    /**
     * Rows [0, rows) of x (row i at base + i·stride, hd values) in panels of NR columns, for the
     * right operand of P·v, dS·k, Pᵀ·dO and dSᵀ·q: row i, column d at
     * dst[(d / NR)·rows·NR + i·NR + d % NR], columns past hd zero.
     */
    private static void packRowPanels(float[] x, int base, int stride, int rows, int hd, float[] dst) {
        for (int d0 = 0; d0 < hd; d0 += NR) {
            int cols = Math.min(NR, hd - d0);
            for (int i = 0; i < rows; i++) {
                int o = rowPanel(d0, rows, i);
                System.arraycopy(x, base + i * stride + d0, dst, o, cols);
                if (cols < NR) Arrays.fill(dst, o + cols, o + NR, 0f);
            }
        }
    }

    /** Where row i of the panel of columns from d0 (a multiple of NR) is in {@link #packRowPanels}' layout. */
    private static int rowPanel(int d0, int rows, int i) {
        return d0 * rows + i * NR;
    }

    /** dst[dOff + j] = src[so + j]·c for j < len. */
    private static void scaleRow(float[] src, int so, int len, float c, float[] dst, int dOff) {
        int j = 0;
        for (; j <= len - L; j += L) FloatVector.fromArray(S, src, so + j).mul(c).intoArray(dst, dOff + j);
        for (; j < len; j++) dst[dOff + j] = src[so + j] * c;
    }

    /** z[zo + j] = scale·z[zo + j] + shift, in place. */
    private static void shift(float[] z, int zo, int len, float scale, float shift) {
        int j = 0;
        for (; j <= len - L; j += L) FloatVector.fromArray(S, z, zo + j).fma(scale, shift).intoArray(z, zo + j);
        for (; j < len; j++) z[zo + j] = Math.fma(z[zo + j], scale, shift);
    }

    /** max_j scale·x[xo + j]; exact in any order. */
    private static float maxScaled(float[] x, int xo, int len, float scale) {
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), m1 = m0;
        int j = 0;
        for (; j <= len - 2 * L; j += 2 * L) {
            m0 = m0.max(FloatVector.fromArray(S, x, xo + j).mul(scale));
            m1 = m1.max(FloatVector.fromArray(S, x, xo + j + L).mul(scale));
        }
        for (; j <= len - L; j += L) m0 = m0.max(FloatVector.fromArray(S, x, xo + j).mul(scale));
        float max = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; j < len; j++) max = Math.max(max, x[xo + j] * scale);
        return max;
    }

    /** Per-thread buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        final int[] rowOff = new int[MR], rowOff2 = new int[MR];
        /** Row offsets of the forward's score tile, as A of the output update. */
        final int[] tileRowsOfS = new int[MR];
        final float[] s = new float[MR * BC];
        final float[] m = new float[MR], l = new float[MR];
        final float[] lanes = new float[L];
        final float[] p = new float[BR_BACKWARD * BC], dp = new float[BR_BACKWARD * BC];
        float[] kt = new float[0], vt = new float[0], acc = new float[0], dq = new float[0];
        /** Row panels ({@link #packRowPanels}): v (forward) or dO (backward), k and q (backward). */
        float[] vp = new float[0], kp = new float[0], qp = new float[0];
        float[] dk = new float[0], dv = new float[0], rowDot = new float[0];
        /** Keys rounded up to whole columns of two vectors (kᵀ, vᵀ) and to whole key tiles (dk, dv). */
        int nPad, keyRows;

        Workspace() {
            for (int r = 0; r < MR; r++) tileRowsOfS[r] = r * BC;
        }

        void ensure(int n, int hd) {
            nPad = (n + NR - 1) / NR * NR;
            if (kt.length < hd * nPad) {
                kt = new float[hd * nPad];
                vt = new float[hd * nPad];
            }
            int panelled = (hd + NR - 1) / NR * NR * n;
            if (vp.length < panelled) {
                vp = new float[panelled];
                kp = new float[panelled];
                qp = new float[panelled];
            }
            if (acc.length < MR * hd) acc = new float[MR * hd];
            if (dq.length < BR_BACKWARD * hd) dq = new float[BR_BACKWARD * hd];
            keyRows = (n + BC - 1) / BC * BC;
            if (dk.length < keyRows * hd) {
                dk = new float[keyRows * hd];
                dv = new float[keyRows * hd];
            }
            if (rowDot.length < n) rowDot = new float[n];
        }
    }
}
