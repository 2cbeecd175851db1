package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dtypes of where() and of the upstream gradient of the unary, softmax and L2 backwards are
 * checked once, in {@link Tensor}: a mismatch is refused with one line before any backend runs,
 * so a backend (the CUDA one reinterprets memory by the first operand's dtype) only executes.
 * Layer norm's checks are LayerNormChecksTest's.
 */
class DtypeChecksTest {

    @Test
    void mismatchedDtypesAreRefusedBeforeAnyBackendRuns() {
        CountingBackend counting = new CountingBackend();
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 2, 3), y = x.softmax();
        Tensor dy64 = Tensor.ones(DType.F64, 2, 3), cond = Tensor.ones(DType.F32, 2, 3);
        Object[][] cases = {
            {"where", (Supplier<Object>) () -> Tensor.where(cond, x, x.to(DType.F64))},
            {"unaryBackward", (Supplier<Object>) () -> x.applyBackward(UnaryOp.TANH, dy64, 0, 0)},
            {"softmaxBackward", (Supplier<Object>) () -> y.softmaxBackward(dy64, 1.0, false)},
            {"l2NormalizeBackward", (Supplier<Object>) () -> x.l2NormalizeBackward(dy64, 1e-12)},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") Supplier<Object> call = (Supplier<Object>) c[1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counting.around(call), (String) c[0]);
            assertTrue(e.getMessage().startsWith("dtypes differ: F32 and F64") && !e.getMessage().contains("\n"), c[0] + ": " + e.getMessage());
        }
        assertEquals(0, counting.calls("where", 3) + counting.calls("unaryBackward", 5) + counting.calls("softmaxBackward", 4)
                + counting.calls("l2NormalizeBackward", 3), "no backend ran for a refused dtype");
        // The condition may be of any dtype (≠ 0 is true), and matching operands reach the backend once each.
        counting.around(() -> Tensor.where(cond.to(DType.I64), x, x));
        counting.around(() -> x.applyBackward(UnaryOp.TANH, Tensor.ones(DType.F32, 3), 0, 0));
        counting.around(() -> y.softmaxBackward(Tensor.ones(DType.F32, 2, 3), 1.0, false));
        counting.around(() -> x.l2NormalizeBackward(Tensor.ones(DType.F32, 2, 3), 1e-12));
        assertEquals(1, counting.calls("where", 3));
        assertEquals(1, counting.calls("unaryBackward", 5));
        assertEquals(1, counting.calls("softmaxBackward", 4));
        assertEquals(1, counting.calls("l2NormalizeBackward", 3));
    }
}
