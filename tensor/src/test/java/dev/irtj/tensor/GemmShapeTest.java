package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GEMM shapes are resolved and checked once, in {@link GemmShape#resolve}, before any backend
 * runs: a bad product is refused with one message naming the shapes and the backend is never
 * called; a good one reaches the backend as one plan with m, n, k and the broadcast batch.
 */
class GemmShapeTest {

    private static Tensor ramp(int... shape) {
        Tensor t = Tensor.zeros(DType.F32, shape);
        double[] v = new double[t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (i % 7) - 3;
        return Tensor.of(v, shape).to(DType.F32);
    }

    @Test
    void badShapesAreRefusedOnceBeforeAnyBackendRuns() {
        CountingBackend counting = new CountingBackend();
        Object[][] cases = {
            {"do not chain", (Supplier<Tensor>) () -> ramp(2, 3).gemm(false, ramp(4, 5), false)},
            {"do not chain", (Supplier<Tensor>) () -> ramp(2, 3).gemm(true, ramp(3, 5), false)},
            {"do not chain", (Supplier<Tensor>) () -> ramp(2, 3).matmul(ramp(4))},
            {"rank >= 2", (Supplier<Tensor>) () -> ramp(3).gemm(false, ramp(3, 2), false)},
            {"batch dims", (Supplier<Tensor>) () -> ramp(2, 2, 3).gemm(false, ramp(3, 3, 4), false)},
            {"linear: bias [3]", (Supplier<Tensor>) () -> ramp(2, 4).linear(ramp(5, 4), ramp(3))},
            {"c0 [3, 1, 1]", (Supplier<Tensor>) () -> Backends.forDevice(Device.CPU).gemm(ramp(2, 4), false, ramp(4, 5), false, 1, ramp(3, 1, 1), 1)},
            {"dtypes", (Supplier<Tensor>) () -> ramp(2, 3).gemm(false, ramp(3, 2).to(DType.F64), false)},
            {"not defined for I64", (Supplier<Tensor>) () -> ramp(2, 3).to(DType.I64).gemm(false, ramp(3, 2).to(DType.I64), false)},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") Supplier<Tensor> call = (Supplier<Tensor>) c[1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counting.around(call));
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
            assertTrue(e.getMessage().contains((String) c[0]), "expected '" + c[0] + "' in: " + e.getMessage());
        }
        assertEquals(0, counting.calls("gemm", 3), "no backend ran for a refused product");
    }

    @Test
    void aGoodProductReachesTheBackendAsOnePlan() {
        CountingBackend counting = new CountingBackend();
        Tensor a = ramp(3, 1, 4, 2), b = ramp(5, 4, 2);   // op(A) = A, op(B) = Bᵀ: [3,1,4,2]·[5,2,4]
        Tensor c = counting.around(() -> a.gemm(false, b, true));
        assertEquals(1, counting.calls("gemm", 3));
        GemmShape p = (GemmShape) counting.lastArgs("gemm", 3)[0];
        assertEquals(4, p.m());
        assertEquals(4, p.n());
        assertEquals(2, p.k());
        assertArrayEquals(new int[] {3, 5}, p.batchShape());
        assertArrayEquals(new int[] {3, 5, 4, 4}, p.outShape());
        assertEquals(15, p.batch());
        assertArrayEquals(new int[] {3, 5, 4, 4}, c.shape());
        Tensor viaMatmul = a.matmul(b.mT());
        assertArrayEquals(viaMatmul.toDoubleArray(), c.toDoubleArray());
    }

    @Test
    void thePlansArraysCannotBeChangedFromOutside() {
        GemmShape p = GemmShape.resolve(ramp(2, 3), false, ramp(3, 4), false, null);
        p.outShape()[0] = 99;
        p.batchShape();
        assertArrayEquals(new int[] {2, 4}, p.outShape());
        assertArrayEquals(new int[0], p.batchShape());
    }
}
