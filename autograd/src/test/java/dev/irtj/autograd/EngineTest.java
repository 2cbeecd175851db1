package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backward engine: ordering, accumulation, graph release, no-grad and detach. */
class EngineTest {

    private static Tensor t(double... v) {
        return Tensor.of(v, v.length);
    }

    @Test
    void sharedSubexpressionsAccumulate() {
        // y = (x·x + x)·x → dy/dx = 3x² + 2x; x feeds three nodes.
        Var x = Var.param(t(1.5, -2.0));
        Var y = x.mul(x).add(x).mul(x);
        y.backward(t(1, 1));
        assertArrayEquals(new double[] {3 * 2.25 + 3, 3 * 4 - 4}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void leafGradientsAccumulateAcrossBackwardCalls() {
        Var x = Var.param(t(2.0));
        x.mul(3).sum().backward();
        x.mul(4).sum().backward();
        assertArrayEquals(new double[] {7}, x.grad().toDoubleArray(), 0);
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void graphIsReleasedAfterBackwardUnlessRetained() {
        Var x = Var.param(t(1.0, 2.0));
        Var y = x.exp().sum();
        y.backward(Tensor.ones(DType.F64), true);
        y.backward(Tensor.ones(DType.F64), false);
        assertArrayEquals(new double[] {2 * Math.E, 2 * Math.exp(2)}, x.grad().toDoubleArray(), 1e-12);
        Var z = x.exp().sum();
        z.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, z::backward);
        assertTrue(e.getMessage().contains("released") && e.getMessage().contains("retainGraph"), e.getMessage());
    }

    /**
     * A consumed intermediate gradient goes back to the pool during the pass, so a chain of
     * same-shaped ops reuses one or two arrays instead of allocating one per op; what the caller
     * sees (leaf gradients, the upstream gradient, forward values) stays intact.
     */
    @Test
    void consumedGradientsAreRecycledDuringTheBackwardPass() {
        int n = 4099;   // a size no other test allocates
        Tensor upstream = Tensor.full(0.5, DType.F64, n);
        Var x = Var.param(Tensor.arange(n, DType.F64).mul(1e-3));
        try (MemoryScope step = MemoryScope.open()) {
            Var y = x;
            for (int i = 0; i < 12; i++) y = y.mul(1.0 + i * 0.01).add(0.1);
            long hitsBefore = dev.irtj.tensor.BufferPool.hits();
            y.backward(upstream);
            long reused = dev.irtj.tensor.BufferPool.hits() - hitsBefore;
            assertTrue(reused >= 10, "24 gradients of one shape took only " + reused + " arrays from the pool");
            double expected = 0.5;
            for (int i = 0; i < 12; i++) expected *= 1.0 + i * 0.01;
            for (double g : x.grad().toDoubleArray()) org.junit.jupiter.api.Assertions.assertEquals(expected, g, 1e-12);
            for (double u : upstream.toDoubleArray()) org.junit.jupiter.api.Assertions.assertEquals(0.5, u);
            assertTrue(y.data().toDoubleArray()[1] > 0.1);
        }
        org.junit.jupiter.api.Assertions.assertEquals(n, x.grad().numel());
    }

    @Test
    void noGradRecordsNothing() {
        Var x = Var.param(t(1.0));
        Var y;
        try (NoGrad ignored = NoGrad.enter()) {
            y = x.mul(2);
        }
        assertFalse(y.requiresGrad());
        assertTrue(NoGrad.isGradEnabled());
        assertThrows(IllegalStateException.class, y::backward);
    }

    @Test
    void detachCutsTheGraph() {
        Var x = Var.param(t(3.0));
        Var y = x.mul(x.detach());
        y.sum().backward();
        assertArrayEquals(new double[] {3.0}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void constantsGetNoGradient() {
        Var x = Var.param(t(1.0, 2.0));
        Var c = Var.constant(t(5.0, 6.0));
        x.mul(c).sum().backward();
        assertNull(c.grad());
        assertArrayEquals(new double[] {5, 6}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void wrongGradientShapeIsRejected() {
        Var x = Var.param(t(1.0, 2.0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.exp().backward(t(1, 2, 3)));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[2]"), e.getMessage());
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Var x = Var.param(t(0.5));
        Var y = x;
        for (int i = 0; i < 20_000; i++) y = y.add(0.0);
        y.sum().backward();
        assertArrayEquals(new double[] {1}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void leafGradientsSurviveTheStepScope() {
        Var w = Var.param(t(1.0, 2.0, 3.0));
        for (int step = 0; step < 3; step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                w.mul(w).sum().backward();
                assertTrue(scope.ownedCount() > 0);
            }
        }
        // Temporaries were released with each scope; the gradient accumulated over 3 steps is intact.
        assertArrayEquals(new double[] {6, 12, 18}, w.grad().toDoubleArray(), 0);
    }

    @Provide
    Arbitrary<Tensor> matrices() {
        return TensorArbitraries.tensors(TensorArbitraries.shapes(2, 3, 5), DType.F64, -2, 2);
    }

    /** A view's gradient equals the gradient of the same computation on a contiguous copy. */
    @Property(tries = 30)
    void viewGradientEqualsGradientOfCopy(@ForAll("matrices") Tensor x) {
        Tensor weights = Tensor.arange(x.numel(), DType.F64).mul(0.01).reshape(x.mT().shape());
        Var a = Var.param(x);
        a.mT().mul(Var.constant(weights)).exp().sum().backward();
        Var b = Var.param(x);
        Var copy = Var.constant(x.mT().contiguous());
        Var viaCopy = Var.param(copy.data());
        viaCopy.mul(Var.constant(weights)).exp().sum().backward();
        b.mT().contiguous().mul(Var.constant(weights)).exp().sum().backward();
        assertArrayEquals(viaCopy.grad().mT().contiguous().toDoubleArray(), a.grad().toDoubleArray(), 1e-12);
        assertArrayEquals(a.grad().toDoubleArray(), b.grad().toDoubleArray(), 1e-12);
    }

    /** Broadcasting's gradient equals that of an explicit expand. */
    @Property(tries = 30)
    void broadcastGradientEqualsExplicitExpand(@ForAll("matrices") Tensor x) {
        int[] rowShape = x.shape();
        rowShape[0] = 1;
        Tensor row = x.narrow(0, 0, 1).contiguous().reshape(rowShape).mul(0.5);
        Var r1 = Var.param(row);
        Var.constant(x).mul(r1).sum().backward();
        Var r2 = Var.param(row);
        Var.constant(x).mul(r2.expand(x.shape())).sum().backward();
        assertArrayEquals(r2.grad().toDoubleArray(), r1.grad().toDoubleArray(), 1e-12);
    }
}
