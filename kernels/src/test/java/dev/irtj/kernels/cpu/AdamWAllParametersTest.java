package dev.irtj.kernels.cpu;

import dev.irtj.tensor.AdamWParameter;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.irtj.kernels.cpu.SimdBackendTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * AdamW over all parameters in one pass ({@link AdamWKernel#stepAll}, the CPU backend's
 * many-parameter {@code adamw}) against the per-tensor kernel it replaces and the reference:
 * parameter lists of the odd sizes (1, 17, 197, 257, 384, 1536 and products of them),
 * at offsets inside their arrays, some with weight decay and some without. The one-pass result
 * must be bit for bit the per-tensor one (the AdamW goldens and the --resume bit-identity tests
 * rest on that); against the F64 reference the tolerance is CpuKernelsTest's for one AdamW
 * step: rtol 1e-5, atol 1e-7 (a handful of float roundings of terms below 1).
 */
class AdamWAllParametersTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend REF = new ReferenceBackend();

    @Provide
    Arbitrary<int[]> sizeLists() {
        return Arbitraries.of(1, 17, 197, 257, 384, 1536, 17 * 384, 197 * 1536).array(int[].class).ofMinSize(1).ofMaxSize(12);
    }

    @Property(tries = 30)
    void onePassIsBitForBitThePerTensorStepAndMatchesTheReference(@ForAll("sizeLists") int[] sizes, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = sizes.length;
        float[][] p = new float[n][], g = new float[n][], m = new float[n][], v = new float[n][];
        int[] offsets = new int[n];
        boolean[] decays = new boolean[n];
        for (int i = 0; i < n; i++) {
            offsets[i] = r.nextInt(5);
            int len = offsets[i] + sizes[i] + r.nextInt(3);
            p[i] = random(r, len, 0.5);
            g[i] = random(r, len, 1e-2);
            m[i] = random(r, len, 1e-2);
            v[i] = random(r, len, 1e-2);
            for (int j = 0; j < len; j++) v[i][j] *= v[i][j];
            decays[i] = r.nextBoolean();
        }
        long step = 1 + r.nextInt(2000);
        float lr = (float) Math.pow(10, -5 + 3 * r.nextDouble()), wd = (float) (0.1 * r.nextDouble());
        float[][] p1 = deepCopy(p), m1 = deepCopy(m), v1 = deepCopy(v);
        for (int i = 0; i < n; i++) {
            AdamWKernel.step(p1[i], g[i], m1[i], v1[i], offsets[i], sizes[i], step, lr, 0.9f, 0.999f, 1e-8f, decays[i] ? wd : 0f);
        }
        AdamWKernel.stepAll(p, g, m, v, offsets, sizes, decays, step, lr, 0.9f, 0.999f, 1e-8f, wd);
        for (int i = 0; i < n; i++) {
            String what = "parameter " + i + " of " + sizes[i] + (decays[i] ? " (decays)" : "");
            assertArrayEquals(p1[i], p[i], what + ": p");
            assertArrayEquals(m1[i], m[i], what + ": m");
            assertArrayEquals(v1[i], v[i], what + ": v");
        }
    }

    @Property(tries = 15)
    void theBackendCallMatchesTheReferenceParameterByParameter(@ForAll("sizeLists") int[] sizes, @ForAll long seed) {
        Rng rng = new Rng(seed);
        List<AdamWParameter> fast = new ArrayList<>(), ref = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            // Some parameters as offset views, like slices of a larger buffer.
            boolean view = i % 3 == 1;
            Tensor p = view ? Tensor.randn(rng, DType.F32, sizes[i] + 2).narrow(0, 2, sizes[i]).mul(1f) : Tensor.randn(rng, DType.F32, sizes[i]);
            Tensor g = Tensor.randn(rng, DType.F32, sizes[i]).mul(1e-2f);
            Tensor m = Tensor.randn(rng, DType.F32, sizes[i]).mul(1e-2f), v = Tensor.randn(rng, DType.F32, sizes[i]).mul(1e-2f).abs();
            boolean decays = i % 2 == 0;
            fast.add(new AdamWParameter(p.copy(), g, m.copy(), v.copy(), decays));
            ref.add(new AdamWParameter(p.to(DType.F64), g.to(DType.F64), m.to(DType.F64), v.to(DType.F64), decays));
        }
        Backend.AdamWStep s = new Backend.AdamWStep(7, 1e-3, 0.9, 0.999, 1e-8, 0.05);
        SIMD.adamw(fast, s);
        REF.adamw(ref, s);
        for (int i = 0; i < sizes.length; i++) {
            assertClose("p " + i, ref.get(i).param(), fast.get(i).param(), 1e-5, 1e-7);
            assertClose("m " + i, ref.get(i).m(), fast.get(i).m(), 1e-5, 1e-7);
            assertClose("v " + i, ref.get(i).v(), fast.get(i).v(), 1e-5, 1e-9);
        }
    }

    private static float[] random(SplittableRandom r, int len, double scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = (float) (scale * (2 * r.nextDouble() - 1));
        return a;
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }
}
