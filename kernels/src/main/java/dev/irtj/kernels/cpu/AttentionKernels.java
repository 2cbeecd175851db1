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
 * <p>Packing, once per (batch, head) block (N·hd copies against the block's N²·hd products):
 * q (and dO in backward) into row-major panels [nP × hdP], kᵀ and vᵀ into [hdP × nP], k and v
 * into row-major [nP × hd], with hdP = head_dim rounded up to {@value #K_UNROLL} and nP = N
 * rounded up to whole tiles, the padding zeros. Every product then runs a whole number of
 * {@value #K_UNROLL}-step iterations over zero-padded k, as {@link Sgemm}'s micro-kernel does: its
 * lesson was that the unroll is worth ~10 % and that a remainder loop (first entered after C2
 * compiled the kernel) deoptimises and recompiles it. The padding adds nothing: a padded
 * query row is zero (its scores are 0, its softmax finite, its output never written), a padded
 * key is a zero column of kᵀ and vᵀ, and where a product's k runs past the keys or queries of a
 * ragged tile, one of its two operands is zero there (the probabilities and dS of padded keys are
 * left at 0, the packed rows past N are 0), the other finite.
 *
 * <p>The products are two register-tiled kernels of {@value #MR} rows × 2 vectors, 16 independent
 * FMA chains as in Sgemm: {@link #tileRows} reads A along rows (q, dO, a tile of P or dS),
 * {@link #tileCols} down columns (Pᵀ and dSᵀ without a transposed copy: the {@value #MR} values of
 * one k step are contiguous, as in Sgemm's packed A). B is read by rows of stride ldb. Columns
 * that do not fill two vectors (an odd head_dim) take a scalar tail, {@link #tileTail}.
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
    /** k steps per iteration of the register tiles; every k they get is a multiple of it. */
    static final int K_UNROLL = 4;
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
        int nP = ws.nP, hdP = ws.hdP;
        packRows(q.a(), q.base(b, h), q.strideN(), n, hd, nP, hdP, ws.qp);
        packTransposed(k.a(), k.base(b, h), k.strideN(), n, hd, nP, hdP, ws.kt);
        packRows(v.a(), v.base(b, h), v.strideN(), n, hd, nP, hd, ws.vp);
        int ld = heads * hd;
        for (int i0 = 0; i0 < n; i0 += MR) {
            int rows = Math.min(MR, n - i0);
            Arrays.fill(ws.m, Float.NEGATIVE_INFINITY);
            Arrays.fill(ws.l, 0f);
            Arrays.fill(ws.acc, 0, MR * hd, 0f);
            for (int j0 = 0; j0 < n; j0 += BC) {
                int kv = Math.min(BC, n - j0);
                Arrays.fill(ws.s, 0f);
                for (int c = 0; c < kv; c += NR) tileRows(hdP, ws.qp, i0 * hdP, hdP, ws.kt, j0 + c, nP, ws.s, c, BC);
                // All MR rows, so padded query rows stay finite in the accumulator.
                onlineSoftmax(ws, kv, hd, scale);
                // acc[r] += P[r, 0:kv]·v[j0 : j0 + kv]; P is 0 past kv, up to the next multiple of K_UNROLL.
                int kc = roundUp(kv, K_UNROLL);
                for (int d0 = 0; d0 < hd; d0 += NR) {
                    productRows(kc, ws.s, 0, BC, ws.vp, j0 * hd + d0, hd, Math.min(NR, hd - d0), ws.acc, d0, hd);
                }
            }
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
     * accumulator row by the same factor. The exponent's affine map, the exponential and the sum
     * are one pass ({@link ExpKernel#expAffineSum}); the rescale is skipped where the max did not move.
     */
    private static void onlineSoftmax(Workspace ws, int kv, int hd, float scale) {
        for (int r = 0; r < MR; r++) {
            int so = r * BC;
            float mOld = ws.m[r];
            float mNew = Math.max(mOld, maxScaled(ws.s, so, kv, scale));
            float alpha = mOld == Float.NEGATIVE_INFINITY ? 0f : ExpKernel.exp(mOld - mNew);
            float tileSum = ExpKernel.expAffineSum(ws.s, so, kv, scale, -mNew, ws.lanes);
            ws.l[r] = ws.l[r] * alpha + tileSum;
            ws.m[r] = mNew;
            if (alpha != 1f) scaleRow(ws.acc, r * hd, hd, alpha, ws.acc, r * hd);
        }
    }

    // ---- backward -----------------------------------------------------------------------------

    private static void backwardBlock(Operand q, Operand k, Operand v, int b, int h, int heads, int n, int hd, float scale,
                                      float[] out, int outOff, float[] lse, int lseOff, float[] dOut, int dOutOff,
                                      Operand dq, Operand dk, Operand dv, Workspace ws) {
        int ld = heads * hd, doBase = dOutOff + b * n * ld + h * hd, oBase = outOff + b * n * ld + h * hd;
        int lseBase = lseOff + (b * heads + h) * n;
        int nP = ws.nP, hdP = ws.hdP;
        packRows(q.a(), q.base(b, h), q.strideN(), n, hd, nP, hdP, ws.qp);
        packRows(dOut, doBase, ld, n, hd, nP, hdP, ws.dop);
        packRows(k.a(), k.base(b, h), k.strideN(), n, hd, nP, hd, ws.kp);
        packTransposed(k.a(), k.base(b, h), k.strideN(), n, hd, nP, hdP, ws.kt);
        packTransposed(v.a(), v.base(b, h), v.strideN(), n, hd, nP, hdP, ws.vt);
        for (int i = 0; i < n; i++) ws.rowDot[i] = dot(dOut, doBase + i * ld, out, oBase + i * ld, hd, ws.lanes);
        Arrays.fill(ws.dk, 0, ws.keyRows * hd, 0f);
        Arrays.fill(ws.dv, 0, ws.keyRows * hd, 0f);
        for (int i0 = 0; i0 < n; i0 += BR_BACKWARD) {
            int iv = Math.min(BR_BACKWARD, n - i0);
            // Rows iv.. of the P and dS tiles are 0 (zero query and dO rows, or the fill): k of the
            // dk and dv updates may run to the next multiple of K_UNROLL.
            int ic = roundUp(iv, K_UNROLL);
            Arrays.fill(ws.dq, 0, BR_BACKWARD * hd, 0f);
            for (int j0 = 0; j0 < n; j0 += BC) {
                int kv = Math.min(BC, n - j0);
                int kc = roundUp(kv, K_UNROLL);
                Arrays.fill(ws.p, 0f);
                Arrays.fill(ws.dp, 0f);
                for (int g = 0; g < iv; g += MR) {
                    int ao = (i0 + g) * hdP;
                    for (int c = 0; c < kv; c += NR) {
                        tileRows(hdP, ws.qp, ao, hdP, ws.kt, j0 + c, nP, ws.p, g * BC + c, BC);
                        tileRows(hdP, ws.dop, ao, hdP, ws.vt, j0 + c, nP, ws.dp, g * BC + c, BC);
                    }
                }
                for (int r = 0; r < iv; r++) {
                    probabilitiesAndScoreGradient(ws, r * BC, kv, scale, lse[lseBase + i0 + r], ws.rowDot[i0 + r]);
                }
                for (int d0 = 0; d0 < hd; d0 += NR) {
                    int cols = Math.min(NR, hd - d0);
                    for (int jg = 0; jg < kv; jg += MR) {
                        // Rows past the last key land in the padding of dk and dv, never written out.
                        // dv[j] += Σ_i P[i, j]·dO[i];  dk[j] += Σ_i dS[i, j]·q[i]: columns of the tiles
                        productCols(ic, ws.p, jg, BC, ws.dop, i0 * hdP + d0, hdP, cols, ws.dv, (j0 + jg) * hd + d0, hd);
                        productCols(ic, ws.dp, jg, BC, ws.qp, i0 * hdP + d0, hdP, cols, ws.dk, (j0 + jg) * hd + d0, hd);
                    }
                    // dq[i] += Σ_j dS[i, j]·k[j]
                    for (int g = 0; g < iv; g += MR) {
                        productRows(kc, ws.dp, g * BC, BC, ws.kp, j0 * hd + d0, hd, cols, ws.dq, g * hd + d0, hd);
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
    private static void probabilitiesAndScoreGradient(Workspace ws, int po, int kv, float scale, float lse, float rowDot) {
        float[] p = ws.p, dp = ws.dp;
        ExpKernel.expAffineSum(p, po, kv, scale, -lse, ws.lanes);
        int j = 0;
        for (; j <= kv - L; j += L) {
            FloatVector pv = FloatVector.fromArray(S, p, po + j);
            FloatVector.fromArray(S, dp, po + j).sub(rowDot).mul(pv).mul(scale).intoArray(dp, po + j);
        }
        for (; j < kv; j++) dp[po + j] = (dp[po + j] - rowDot) * p[po + j] * scale;
    }

    // ---- the register tiles -------------------------------------------------------------------

    /** {@link #tileRows} when cols is two whole vectors, else {@link #tileTail}. */
    private static void productRows(int kc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int cols,
                                    float[] c, int cOff, int ldc) {
        if (cols == NR) tileRows(kc, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        else tileTail(kc, a, aOff, lda, 1, b, bOff, ldb, cols, c, cOff, ldc);
    }

    /** {@link #tileCols} when cols is two whole vectors, else {@link #tileTail}. */
    private static void productCols(int kc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int cols,
                                    float[] c, int cOff, int ldc) {
        if (cols == NR) tileCols(kc, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        else tileTail(kc, a, aOff, 1, lda, b, bOff, ldb, cols, c, cOff, ldc);
    }

    /**
     * c[cOff + r·ldc + j] += Σ_{p < kc} a[aOff + r·lda + p]·b[bOff + p·ldb + j] for r < MR,
     * j < NR, kc a multiple of {@value #K_UNROLL}: all MR rows of c must exist (callers size their
     * buffers to whole tiles). The 16 accumulators are spelled out as locals so C2 keeps them in
     * registers (as in Sgemm's micro-kernel), and the k loop is unrolled {@value #K_UNROLL} times
     * by hand (C2 does not unroll a body this large; one k step per iteration left about fifteen
     * scalar instructions beside every 16 FMAs). The accumulators start from c and go back to
     * it, so the same kernel serves a fresh product (c zeroed first, one fill per tile of scores)
     * and an accumulation (dq, dk, dv, the output), with no scratch tile and no per-row copies.
     * The repeated blocks below are rows of A and k steps, not copies to factor out.
     */
    private static void tileRows(int kc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int a0 = aOff, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda, a6 = a5 + lda, a7 = a6 + lda;
        int r0 = cOff, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, r0), c01 = FloatVector.fromArray(S, c, r0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, r1), c11 = FloatVector.fromArray(S, c, r1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, r2), c21 = FloatVector.fromArray(S, c, r2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, r3), c31 = FloatVector.fromArray(S, c, r3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, r4), c41 = FloatVector.fromArray(S, c, r4 + L);
        FloatVector c50 = FloatVector.fromArray(S, c, r5), c51 = FloatVector.fromArray(S, c, r5 + L);
        FloatVector c60 = FloatVector.fromArray(S, c, r6), c61 = FloatVector.fromArray(S, c, r6 + L);
        FloatVector c70 = FloatVector.fromArray(S, c, r7), c71 = FloatVector.fromArray(S, c, r7 + L);
        for (int p = 0; p < kc; p += K_UNROLL) {
            int bRow = bOff + p * ldb;
            FloatVector b00 = FloatVector.fromArray(S, b, bRow);
            FloatVector b01 = FloatVector.fromArray(S, b, bRow + L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x.fma(b00, c00);
            c01 = x.fma(b01, c01);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x.fma(b00, c10);
            c11 = x.fma(b01, c11);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x.fma(b00, c20);
            c21 = x.fma(b01, c21);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = x.fma(b00, c30);
            c31 = x.fma(b01, c31);
            x = FloatVector.broadcast(S, a[a4 + p]);
            c40 = x.fma(b00, c40);
            c41 = x.fma(b01, c41);
            x = FloatVector.broadcast(S, a[a5 + p]);
            c50 = x.fma(b00, c50);
            c51 = x.fma(b01, c51);
            x = FloatVector.broadcast(S, a[a6 + p]);
            c60 = x.fma(b00, c60);
            c61 = x.fma(b01, c61);
            x = FloatVector.broadcast(S, a[a7 + p]);
            c70 = x.fma(b00, c70);
            c71 = x.fma(b01, c71);
            FloatVector b10 = FloatVector.fromArray(S, b, bRow + 1 * ldb);
            FloatVector b11 = FloatVector.fromArray(S, b, bRow + 1 * ldb + L);
            x = FloatVector.broadcast(S, a[a0 + p + 1]);
            c00 = x.fma(b10, c00);
            c01 = x.fma(b11, c01);
            x = FloatVector.broadcast(S, a[a1 + p + 1]);
            c10 = x.fma(b10, c10);
            c11 = x.fma(b11, c11);
            x = FloatVector.broadcast(S, a[a2 + p + 1]);
            c20 = x.fma(b10, c20);
            c21 = x.fma(b11, c21);
            x = FloatVector.broadcast(S, a[a3 + p + 1]);
            c30 = x.fma(b10, c30);
            c31 = x.fma(b11, c31);
            x = FloatVector.broadcast(S, a[a4 + p + 1]);
            c40 = x.fma(b10, c40);
            c41 = x.fma(b11, c41);
            x = FloatVector.broadcast(S, a[a5 + p + 1]);
            c50 = x.fma(b10, c50);
            c51 = x.fma(b11, c51);
            x = FloatVector.broadcast(S, a[a6 + p + 1]);
            c60 = x.fma(b10, c60);
            c61 = x.fma(b11, c61);
            x = FloatVector.broadcast(S, a[a7 + p + 1]);
            c70 = x.fma(b10, c70);
            c71 = x.fma(b11, c71);
            FloatVector b20 = FloatVector.fromArray(S, b, bRow + 2 * ldb);
            FloatVector b21 = FloatVector.fromArray(S, b, bRow + 2 * ldb + L);
            x = FloatVector.broadcast(S, a[a0 + p + 2]);
            c00 = x.fma(b20, c00);
            c01 = x.fma(b21, c01);
            x = FloatVector.broadcast(S, a[a1 + p + 2]);
            c10 = x.fma(b20, c10);
            c11 = x.fma(b21, c11);
            x = FloatVector.broadcast(S, a[a2 + p + 2]);
            c20 = x.fma(b20, c20);
            c21 = x.fma(b21, c21);
            x = FloatVector.broadcast(S, a[a3 + p + 2]);
            c30 = x.fma(b20, c30);
            c31 = x.fma(b21, c31);
            x = FloatVector.broadcast(S, a[a4 + p + 2]);
            c40 = x.fma(b20, c40);
            c41 = x.fma(b21, c41);
            x = FloatVector.broadcast(S, a[a5 + p + 2]);
            c50 = x.fma(b20, c50);
            c51 = x.fma(b21, c51);
            x = FloatVector.broadcast(S, a[a6 + p + 2]);
            c60 = x.fma(b20, c60);
            c61 = x.fma(b21, c61);
            x = FloatVector.broadcast(S, a[a7 + p + 2]);
            c70 = x.fma(b20, c70);
            c71 = x.fma(b21, c71);
            FloatVector b30 = FloatVector.fromArray(S, b, bRow + 3 * ldb);
            FloatVector b31 = FloatVector.fromArray(S, b, bRow + 3 * ldb + L);
            x = FloatVector.broadcast(S, a[a0 + p + 3]);
            c00 = x.fma(b30, c00);
            c01 = x.fma(b31, c01);
            x = FloatVector.broadcast(S, a[a1 + p + 3]);
            c10 = x.fma(b30, c10);
            c11 = x.fma(b31, c11);
            x = FloatVector.broadcast(S, a[a2 + p + 3]);
            c20 = x.fma(b30, c20);
            c21 = x.fma(b31, c21);
            x = FloatVector.broadcast(S, a[a3 + p + 3]);
            c30 = x.fma(b30, c30);
            c31 = x.fma(b31, c31);
            x = FloatVector.broadcast(S, a[a4 + p + 3]);
            c40 = x.fma(b30, c40);
            c41 = x.fma(b31, c41);
            x = FloatVector.broadcast(S, a[a5 + p + 3]);
            c50 = x.fma(b30, c50);
            c51 = x.fma(b31, c51);
            x = FloatVector.broadcast(S, a[a6 + p + 3]);
            c60 = x.fma(b30, c60);
            c61 = x.fma(b31, c61);
            x = FloatVector.broadcast(S, a[a7 + p + 3]);
            c70 = x.fma(b30, c70);
            c71 = x.fma(b31, c71);
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
     * {@link #tileRows} with A read down columns: c[cOff + r·ldc + j] += Σ_{p < kc}
     * a[aOff + p·lda + r]·b[bOff + p·ldb + j] (A is the transpose of a tile of P or dS; the
     * {@value #MR} values of one k step are contiguous). kc a multiple of {@value #K_UNROLL}.
     */
    private static void tileCols(int kc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int r0 = cOff, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, r0), c01 = FloatVector.fromArray(S, c, r0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, r1), c11 = FloatVector.fromArray(S, c, r1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, r2), c21 = FloatVector.fromArray(S, c, r2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, r3), c31 = FloatVector.fromArray(S, c, r3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, r4), c41 = FloatVector.fromArray(S, c, r4 + L);
        FloatVector c50 = FloatVector.fromArray(S, c, r5), c51 = FloatVector.fromArray(S, c, r5 + L);
        FloatVector c60 = FloatVector.fromArray(S, c, r6), c61 = FloatVector.fromArray(S, c, r6 + L);
        FloatVector c70 = FloatVector.fromArray(S, c, r7), c71 = FloatVector.fromArray(S, c, r7 + L);
        for (int p = 0, ap = aOff; p < kc; p += K_UNROLL, ap += K_UNROLL * lda) {
            int bRow = bOff + p * ldb;
            FloatVector b00 = FloatVector.fromArray(S, b, bRow);
            FloatVector b01 = FloatVector.fromArray(S, b, bRow + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b00, c00);
            c01 = x.fma(b01, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = x.fma(b00, c10);
            c11 = x.fma(b01, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = x.fma(b00, c20);
            c21 = x.fma(b01, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = x.fma(b00, c30);
            c31 = x.fma(b01, c31);
            x = FloatVector.broadcast(S, a[ap + 4]);
            c40 = x.fma(b00, c40);
            c41 = x.fma(b01, c41);
            x = FloatVector.broadcast(S, a[ap + 5]);
            c50 = x.fma(b00, c50);
            c51 = x.fma(b01, c51);
            x = FloatVector.broadcast(S, a[ap + 6]);
            c60 = x.fma(b00, c60);
            c61 = x.fma(b01, c61);
            x = FloatVector.broadcast(S, a[ap + 7]);
            c70 = x.fma(b00, c70);
            c71 = x.fma(b01, c71);
            FloatVector b10 = FloatVector.fromArray(S, b, bRow + 1 * ldb);
            FloatVector b11 = FloatVector.fromArray(S, b, bRow + 1 * ldb + L);
            x = FloatVector.broadcast(S, a[ap + lda]);
            c00 = x.fma(b10, c00);
            c01 = x.fma(b11, c01);
            x = FloatVector.broadcast(S, a[ap + lda + 1]);
            c10 = x.fma(b10, c10);
            c11 = x.fma(b11, c11);
            x = FloatVector.broadcast(S, a[ap + lda + 2]);
            c20 = x.fma(b10, c20);
            c21 = x.fma(b11, c21);
            x = FloatVector.broadcast(S, a[ap + lda + 3]);
            c30 = x.fma(b10, c30);
            c31 = x.fma(b11, c31);
            x = FloatVector.broadcast(S, a[ap + lda + 4]);
            c40 = x.fma(b10, c40);
            c41 = x.fma(b11, c41);
            x = FloatVector.broadcast(S, a[ap + lda + 5]);
            c50 = x.fma(b10, c50);
            c51 = x.fma(b11, c51);
            x = FloatVector.broadcast(S, a[ap + lda + 6]);
            c60 = x.fma(b10, c60);
            c61 = x.fma(b11, c61);
            x = FloatVector.broadcast(S, a[ap + lda + 7]);
            c70 = x.fma(b10, c70);
            c71 = x.fma(b11, c71);
            FloatVector b20 = FloatVector.fromArray(S, b, bRow + 2 * ldb);
            FloatVector b21 = FloatVector.fromArray(S, b, bRow + 2 * ldb + L);
            x = FloatVector.broadcast(S, a[ap + 2 * lda]);
            c00 = x.fma(b20, c00);
            c01 = x.fma(b21, c01);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 1]);
            c10 = x.fma(b20, c10);
            c11 = x.fma(b21, c11);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 2]);
            c20 = x.fma(b20, c20);
            c21 = x.fma(b21, c21);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 3]);
            c30 = x.fma(b20, c30);
            c31 = x.fma(b21, c31);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 4]);
            c40 = x.fma(b20, c40);
            c41 = x.fma(b21, c41);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 5]);
            c50 = x.fma(b20, c50);
            c51 = x.fma(b21, c51);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 6]);
            c60 = x.fma(b20, c60);
            c61 = x.fma(b21, c61);
            x = FloatVector.broadcast(S, a[ap + 2 * lda + 7]);
            c70 = x.fma(b20, c70);
            c71 = x.fma(b21, c71);
            FloatVector b30 = FloatVector.fromArray(S, b, bRow + 3 * ldb);
            FloatVector b31 = FloatVector.fromArray(S, b, bRow + 3 * ldb + L);
            x = FloatVector.broadcast(S, a[ap + 3 * lda]);
            c00 = x.fma(b30, c00);
            c01 = x.fma(b31, c01);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 1]);
            c10 = x.fma(b30, c10);
            c11 = x.fma(b31, c11);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 2]);
            c20 = x.fma(b30, c20);
            c21 = x.fma(b31, c21);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 3]);
            c30 = x.fma(b30, c30);
            c31 = x.fma(b31, c31);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 4]);
            c40 = x.fma(b30, c40);
            c41 = x.fma(b31, c41);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 5]);
            c50 = x.fma(b30, c50);
            c51 = x.fma(b31, c51);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 6]);
            c60 = x.fma(b30, c60);
            c61 = x.fma(b31, c61);
            x = FloatVector.broadcast(S, a[ap + 3 * lda + 7]);
            c70 = x.fma(b30, c70);
            c71 = x.fma(b31, c71);
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
     * c[cOff + r·ldc + j] += Σ_{p < kc} a[aOff + r·aRow + p·aStep]·b[bOff + p·ldb + j] for r < MR,
     * j < cols < NR, in scalar loops (only an odd head_dim gets here).
     */
    private static void tileTail(int kc, float[] a, int aOff, int aRow, int aStep, float[] b, int bOff, int ldb, int cols,
                                 float[] c, int cOff, int ldc) {
        for (int r = 0; r < MR; r++) {
            int ar = aOff + r * aRow;
            for (int j = 0; j < cols; j++) {
                float s = c[cOff + r * ldc + j];
                for (int p = 0; p < kc; p++) s = Math.fma(a[ar + p * aStep], b[bOff + p * ldb + j], s);
                c[cOff + r * ldc + j] = s;
            }
        }
    }

    // ---- row helpers --------------------------------------------------------------------------

    /**
     * dst[j·width + d] = x[base + j·stride + d] for j < n, d < hd; 0 for hd ≤ d < width and for
     * the rows n ≤ j < rows.
     */
    private static void packRows(float[] x, int base, int stride, int n, int hd, int rows, int width, float[] dst) {
        for (int j = 0; j < n; j++) {
            System.arraycopy(x, base + j * stride, dst, j * width, hd);
            if (width > hd) Arrays.fill(dst, j * width + hd, (j + 1) * width, 0f);
        }
        Arrays.fill(dst, n * width, rows * width, 0f);
    }

    /** kt[d·nP + j] = x[base + j·stride + d] for j < n, d < hd; 0 elsewhere in [hdP × nP]. */
    private static void packTransposed(float[] x, int base, int stride, int n, int hd, int nP, int hdP, float[] kt) {
        for (int d = 0; d < hd; d++) Arrays.fill(kt, d * nP + n, (d + 1) * nP, 0f);
        Arrays.fill(kt, hd * nP, hdP * nP, 0f);
        for (int j = 0; j < n; j++) {
            int src = base + j * stride;
            for (int d = 0; d < hd; d++) kt[d * nP + j] = x[src + d];
        }
    }

    /** dst[dOff + j] = src[so + j]·c for j < len. */
    private static void scaleRow(float[] src, int so, int len, float c, float[] dst, int dOff) {
        int j = 0;
        for (; j <= len - L; j += L) FloatVector.fromArray(S, src, so + j).mul(c).intoArray(dst, dOff + j);
        for (; j < len; j++) dst[dOff + j] = src[so + j] * c;
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

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    /** Per-thread buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        final float[] s = new float[MR * BC];
        final float[] m = new float[MR], l = new float[MR];
        final float[] lanes = new float[L];
        final float[] p = new float[BR_BACKWARD * BC], dp = new float[BR_BACKWARD * BC];
        float[] qp = new float[0], dop = new float[0], kp = new float[0], vp = new float[0];
        float[] kt = new float[0], vt = new float[0], acc = new float[0], dq = new float[0];
        float[] dk = new float[0], dv = new float[0], rowDot = new float[0];
        /**
         * Tokens rounded up to whole register-tile columns and backward query blocks (the packed
         * panels' rows, kᵀ's and vᵀ's columns), head_dim to K_UNROLL (the k of q·kᵀ and dO·vᵀ),
         * keys to whole key tiles (dk, dv).
         */
        int nP, hdP, keyRows;

        void ensure(int n, int hd) {
            nP = roundUp(n, Math.max(NR, BR_BACKWARD));
            hdP = roundUp(hd, K_UNROLL);
            if (qp.length < nP * hdP) {
                qp = new float[nP * hdP];
                dop = new float[nP * hdP];
                kt = new float[hdP * nP];
                vt = new float[hdP * nP];
            }
            if (kp.length < nP * hd) {
                kp = new float[nP * hd];
                vp = new float[nP * hd];
            }
            if (acc.length < MR * hd) acc = new float[MR * hd];
            if (dq.length < BR_BACKWARD * hd) dq = new float[BR_BACKWARD * hd];
            keyRows = roundUp(n, BC);
            if (dk.length < keyRows * hd) {
                dk = new float[keyRows * hd];
                dv = new float[keyRows * hd];
            }
            if (rowDot.length < n) rowDot = new float[n];
        }
    }
}
