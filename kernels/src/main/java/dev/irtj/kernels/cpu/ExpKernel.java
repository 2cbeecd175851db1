package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^z in F32, the one exponential of the CPU kernels (softmax, log-softmax, both GELUs).
 * Reference: {@link Math#exp} (the tests measure it in ulp); ScalarMath's EXP is not this (the
 * elementwise EXP op keeps the reference's double-rounded-once values).
 *
 * <p>Cody–Waite reduction z = n·ln2 + r, |r| ≤ ln2/2, and e^r = 1 + r + r²·Q(r) with Q of degree 4
 * (relative error of the fit 3.1e-9; ≤ 1 ulp overall), fitted by weighted minimax (Lawson's
 * iteratively reweighted least squares in double, then rounded to float and checked on a dense
 * grid). Inputs below ln(FLT_MIN) give 0 (the true value is subnormal, under 1.2e-38); inputs above
 * 88 are treated as 88 (no kernel needs more: softmax feeds z ≤ 0, the others clamp before). It is
 * computed here rather than with {@code lanewise(EXP)}, which on HotSpot calls SVML only once C2
 * has compiled the loop, and a differently rounded Java fallback before that.
 *
 * <p>Why an array pass and not a {@code FloatVector exp(FloatVector)}: a vector passed to or
 * returned from a method that C2 does not inline is boxed, and the calling loop then runs one to
 * two orders of magnitude slower; whether a helper is inlined depends on heuristics (node budget,
 * "already compiled into a big method", call-site frequency). {@link #exp(float[], int, float[], int, int)}
 * takes and returns arrays, so no vector crosses a call whether or not it is inlined; the callers
 * write their exponent into a buffer (usually the output), call it, and read the result back,
 * which costs a pass over data that is still in L1. The scalar {@link #exp(float)} repeats the
 * vector lanes' operations exactly, so a tail element gets the value a lane would give it.
 */
final class ExpKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INT_SPECIES = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = S.length();

    /** ln(FLT_MIN); below it e^z is flushed to 0. */
    static final float EXP_LO = -87.33654f;
    static final float EXP_HI = 88.0f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f; // ln 2 with its low 9 mantissa bits cleared: n·LN2_HI is exact
    private static final float LN2_LO = 1.4286068203094173e-06f; // ln 2 − LN2_HI
    private static final float ROUND_MAGIC = 12582912f; // 1.5·2^23: adding it rounds to an integer
    // 2^k is built from the bits of t = 1.5·2^23 + k as (k + 127) << 23 (the magic's own bits
    // shift out), through a constant int species and a multiply by 2^23: JDK 17's C2 intrinsifies
    // neither reinterpretAsInts() (its species is looked up at run time) nor the lane shift, and
    // their fallbacks are two orders of magnitude slower.
    private static final float EQ0 = 0.4999999403953552f, EQ1 = 0.1666652113199234f, EQ2 = 0.04166838899254799f,
            EQ3 = 0.008368712849915028f, EQ4 = 0.0013814620906487107f;

    private ExpKernel() {
    }

    /**
     * e[eo + j] = e^z[zo + j] for j in [0, n); {@code e} may be the very same block as {@code z}.
     * No bounds check beyond the JVM's: callers are the kernels of this package, which check their
     * blocks once at entry.
     */
    static void exp(float[] z, int zo, float[] e, int eo, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector zv = FloatVector.fromArray(S, z, zo + j);
            FloatVector zc = zv.max(EXP_LO).min(EXP_HI);
            FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = t.sub(ROUND_MAGIC);
            FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
            FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
            FloatVector twoK = (FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23)
                    .reinterpretShape(S, 0);
            p.mul(twoK).blend(0f, zv.lt(EXP_LO)).intoArray(e, eo + j);
        }
        // The tail repeats exp(float)'s operations here instead of calling it: written out, they
        // put this method's bytecode above C2's FreqInlineSize (325 bytes), so C2 never inlines
        // it into a caller but compiles it once on its own. Inlined, its ~20 vector operations
        // used up most of a caller's node budget (NodeCountInliningCutoff): the fused
        // attention's online softmax and the Linear + GELU epilogue then stopped inlining the
        // Vector API calls of their other helpers, which ran boxed (hundreds of MB per DeiT-S
        // forward; ForwardRunsUnboxedTest). The scalar exp(float) below is the same sequence.
        for (; j < n; j++) {
            float zj = z[zo + j];
            float zc = Math.min(Math.max(zj, EXP_LO), EXP_HI);
            float t = Math.fma(zc, LOG2E, ROUND_MAGIC);
            float k = t - ROUND_MAGIC;
            float r = Math.fma(k, -LN2_LO, Math.fma(k, -LN2_HI, zc));
            float q = Math.fma(r, EQ4, EQ3);
            q = Math.fma(q, r, EQ2);
            q = Math.fma(q, r, EQ1);
            q = Math.fma(q, r, EQ0);
            q = Math.fma(q, r, 1f);
            q = Math.fma(q, r, 1f);
            float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + (127 << 23));
            e[eo + j] = zj < EXP_LO ? 0f : q * scale;
        }
    }

    /**
     * e[eo + j] = e^(scale·z[zo + j] + shift) for j in [0, n), and returns their sum: the online
     * softmax's one pass over a row of scores (it had been four: scale and shift, exp, and a sum,
     * each a loop of its own; bench/README.md, branch attn4). The exponent is the fma the separate
     * pass computed, so each e is the value {@link #exp(float[], int, float[], int, int)} gives it;
     * the sum adds the lanes of one vector accumulator ({@link ReductionKernels#addLanes}, through
     * {@code lanes}), then the tail. {@code e} may be the very same block as {@code z}.
     *
     * <p>Like the array {@code exp}, it must stay above C2's FreqInlineSize (325 bytes of
     * bytecode; it is 347) so that it is compiled on its own and never inlined into the online
     * softmax, whose Vector API helpers then ran boxed (see the class comment). Its vector body
     * repeats the array exp's rather than sharing a helper for the same reason: a vector passed
     * to or returned from a method that is not inlined is boxed.
     */
    static float expScaledSum(float[] z, int zo, float scale, float shift, float[] e, int eo, int n, float[] lanes) {
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector zv = FloatVector.fromArray(S, z, zo + j).fma(scale, shift);
            FloatVector zc = zv.max(EXP_LO).min(EXP_HI);
            FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = t.sub(ROUND_MAGIC);
            FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
            FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
            FloatVector twoK = (FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23)
                    .reinterpretShape(S, 0);
            FloatVector ev = p.mul(twoK).blend(0f, zv.lt(EXP_LO));
            ev.intoArray(e, eo + j);
            acc = acc.add(ev);
        }
        acc.intoArray(lanes, 0);
        float sum = ReductionKernels.addLanes(lanes);
        for (; j < n; j++) {
            float v = exp(Math.fma(z[zo + j], scale, shift));
            e[eo + j] = v;
            sum += v;
        }
        return sum;
    }

    /** e^z by the vector lanes' exact operations. */
    static float exp(float z) {
        float zc = Math.min(Math.max(z, EXP_LO), EXP_HI);
        float t = Math.fma(zc, LOG2E, ROUND_MAGIC);
        float k = t - ROUND_MAGIC;
        float r = Math.fma(k, -LN2_LO, Math.fma(k, -LN2_HI, zc));
        float p = Math.fma(r, EQ4, EQ3);
        p = Math.fma(p, r, EQ2);
        p = Math.fma(p, r, EQ1);
        p = Math.fma(p, r, EQ0);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        // 2^k from the bits of t = 1.5·2^23 + k: (k + 127) << 23 (the magic's own bits shift out)
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + (127 << 23));
        return z < EXP_LO ? 0f : p * scale;
    }
}
