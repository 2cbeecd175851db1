package dev.irtj.kernels.cpu;

import dev.irtj.tensor.Backend;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.Arrays;

import static dev.irtj.kernels.cpu.SimdBackendTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The CPU backend's residual add + layer norm ({@link LayerNormKernels#addForward}) against the
 * composition of reference ops it replaces (h = x + r, then layer norm of h), on the odd
 * sizes: rows 1, 17, 197, 257 (with a leading batch dim or not), widths 1, 17, 384, 1536, with
 * and without weight and bias, and a strided residual. Tolerances: h within rtol 1e-6, atol 1e-7
 * (one float rounding); y, mean, rstd within rtol 1e-5, atol 1e-5 (SimdBackendTest's bound for
 * layer norm). And the fusion changes nothing: every output is bit for bit the CPU add followed
 * by the CPU layer norm. The backward is layer norm's own, which CpuKernelsTest covers.
 */
class AddLayerNormKernelsTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend REF = new ReferenceBackend();

    @Provide
    Arbitrary<int[]> sizes() {
        return Combinators.combine(Arbitraries.of(0, 2), Arbitraries.of(1, 17, 197, 257), Arbitraries.of(1, 17, 384, 1536))
                .as((b, r, n) -> new int[] {b, r, n});
    }

    @Property(tries = 40)
    void addLayerNormMatchesTheReferenceComposition(@ForAll("sizes") int[] s, @ForAll long seed, @ForAll boolean affine,
                                                    @ForAll boolean stridedResidual) {
        Rng rng = new Rng(seed);
        int[] shape = s[0] == 0 ? new int[] {s[1], s[2]} : new int[] {s[0], s[1], s[2]};
        Tensor x = Tensor.randn(rng, DType.F32, shape).mul(2f).add(0.5f);
        Tensor r = stridedResidual && shape.length == 2 && s[1] > 1
                ? Tensor.randn(rng, DType.F32, s[2], s[1]).transpose(0, 1) : Tensor.randn(rng, DType.F32, shape);
        Tensor w = affine ? Tensor.randn(rng, DType.F32, s[2]) : null, b = affine ? Tensor.randn(rng, DType.F32, s[2]) : null;
        String what = Arrays.toString(shape) + (affine ? " affine" : "") + (stridedResidual ? " strided r" : "");

        Backend.AddLayerNormResult got = SIMD.addLayerNorm(x, r, w, b, 1e-6);
        Tensor hRef = REF.binary(BinaryOp.ADD, x, r);
        Backend.LayerNormResult want = REF.layerNorm(hRef, w, b, 1e-6);
        assertClose(what + ": h", hRef, got.h(), 1e-6, 1e-7);
        assertClose(what + ": y", want.y(), got.norm().y(), 1e-5, 1e-5);
        assertClose(what + ": mean", want.mean(), got.norm().mean(), 1e-5, 1e-5);
        assertClose(what + ": rstd", want.rstd(), got.norm().rstd(), 1e-5, 1e-5);

        Tensor h = SIMD.binary(BinaryOp.ADD, x, r);
        Backend.LayerNormResult unfused = SIMD.layerNorm(h, w, b, 1e-6);
        assertArrayEquals(h.toFloatArray(), got.h().toFloatArray(), what + ": h is the CPU add");
        assertArrayEquals(unfused.y().toFloatArray(), got.norm().y().toFloatArray(), what + ": y is the CPU layer norm of h");
        assertArrayEquals(unfused.mean().toFloatArray(), got.norm().mean().toFloatArray(), what + ": mean");
        assertArrayEquals(unfused.rstd().toFloatArray(), got.norm().rstd().toFloatArray(), what + ": rstd");
    }
}
