package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused Linear + GELU op at the Tensor level: its shapes, dtypes and bias are checked once in
 * {@link Tensor} (a refused input never reaches a backend), and the reference backend computes
 * exactly the composition it replaces, gelu(x·Wᵀ + b), with z = x·Wᵀ kept for the backward.
 */
class LinearGeluOpsTest {
    private final Rng rng = new Rng(11);

    @Test
    void badInputsAreRefusedBeforeAnyBackendRuns() {
        CountingBackend counting = new CountingBackend();
        Tensor x = Tensor.zeros(DType.F32, 2, 4), w = Tensor.zeros(DType.F32, 3, 4), b = Tensor.zeros(DType.F32, 3);
        Tensor z = Tensor.zeros(DType.F32, 2, 3);
        Object[][] cases = {
            {"linear_gelu needs a bias", (Supplier<Object>) () -> x.linearGelu(w, null)},
            {"linear_gelu: bias [4] vs weight [3, 4]", (Supplier<Object>) () -> x.linearGelu(w, Tensor.zeros(DType.F32, 4))},
            {"linear_gelu: input [2, 4] vs weight [3, 5]", (Supplier<Object>) () -> x.linearGelu(Tensor.zeros(DType.F32, 3, 5), b)},
            {"linear_gelu weight must be 2-D", (Supplier<Object>) () -> x.linearGelu(Tensor.zeros(DType.F32, 12), b)},
            {"F64", (Supplier<Object>) () -> x.linearGelu(w, Tensor.zeros(DType.F64, 3))},
            {"not defined for I64", (Supplier<Object>) () -> x.to(DType.I64).linearGelu(w.to(DType.I64), b.to(DType.I64))},
            {"linear_gelu backward: bias [2] vs z [2, 3]", (Supplier<Object>) () -> z.linearGeluBackward(Tensor.zeros(DType.F32, 2), z)},
            {"linear_gelu backward: dy [3] vs z [2, 3]", (Supplier<Object>) () -> z.linearGeluBackward(b, Tensor.zeros(DType.F32, 3))},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") Supplier<Object> call = (Supplier<Object>) c[1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counting.around(call));
            assertTrue(e.getMessage().contains((String) c[0]) && !e.getMessage().contains("\n"), "expected '" + c[0] + "' in one line: " + e.getMessage());
        }
        assertEquals(0, counting.calls("linearGelu", 2) + counting.calls("linearGeluBackward", 3) + counting.calls("gemm", 3),
                "no backend ran for refused inputs");
        counting.around(() -> x.linearGelu(w, b));
        assertEquals(1, counting.calls("linearGelu", 2), "a good call reaches the backend once");
    }

    @Test
    void referenceIsTheCompositionItReplacesOnEveryRank() {
        for (int[] shape : new int[][] {{5}, {1, 5}, {17, 5}, {2, 3, 5}}) {
            Tensor x = Tensor.randn(rng, DType.F64, shape), w = Tensor.randn(rng, DType.F64, 7, 5), b = Tensor.randn(rng, DType.F64, 7);
            Backend.LinearGeluResult r = x.linearGelu(w, b);
            Tensor z = x.linear(w, null);
            assertArrayEquals(z.toDoubleArray(), r.z().toDoubleArray(), 0, "z is the product without the bias");
            assertArrayEquals(x.linear(w, b).gelu().toDoubleArray(), r.y().toDoubleArray(), 1e-15, "y = gelu(x·Wᵀ + b)");
            assertArrayEquals(x.linear(w, b).shape(), r.y().shape());

            Tensor dy = Tensor.randn(rng, DType.F64, r.y().shape());
            Tensor[] g = r.z().linearGeluBackward(b, dy);
            Tensor dz = x.linear(w, b).applyBackward(UnaryOp.GELU, dy, 0, 0);
            assertArrayEquals(dz.toDoubleArray(), g[0].toDoubleArray(), 1e-15, "dz = dy·gelu'(z + b)");
            int[] leading = new int[dz.rank() - 1];
            for (int d = 0; d < leading.length; d++) leading[d] = d;
            assertArrayEquals(dz.sum(leading, false).toDoubleArray(), g[1].toDoubleArray(), 1e-13, "db = Σ rows of dz");
            assertArrayEquals(new int[] {7}, g[1].shape());
        }
    }
}
