package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layer norm's dtype and parameters are checked once, in {@link Tensor}: a bad weight or bias
 * (wrong shape, dtype or device) or an integer input is refused with one line before any
 * backend runs, so the backends carry no copy of these checks.
 */
class LayerNormChecksTest {

    @Test
    void badParametersAreRefusedBeforeAnyBackendRuns() {
        CountingBackend counting = new CountingBackend();
        Tensor x = Tensor.zeros(DType.F32, 2, 4), dy = Tensor.zeros(DType.F32, 2, 4);
        Tensor mean = Tensor.zeros(DType.F32, 2), rstd = Tensor.ones(DType.F32, 2);
        Object[][] cases = {
            {"weight must have shape [4], got [3]", (Supplier<Object>) () -> x.layerNorm(Tensor.ones(DType.F32, 3), null, 1e-5)},
            {"bias must have shape [4], got [4, 1]", (Supplier<Object>) () -> x.layerNorm(null, Tensor.zeros(DType.F32, 4, 1), 1e-5)},
            {"dtypes differ", (Supplier<Object>) () -> x.layerNorm(Tensor.ones(DType.F64, 4), null, 1e-5)},
            {"not defined for I64", (Supplier<Object>) () -> x.to(DType.I64).layerNorm(null, null, 1e-5)},
            {"weight must have shape [4], got [2]", (Supplier<Object>) () -> x.layerNormBackward(dy, Tensor.ones(DType.F32, 2), mean, rstd, false)},
            {"add_layer_norm: residual [4, 2] vs input [2, 4]; expected the same shape",
                    (Supplier<Object>) () -> x.addLayerNorm(Tensor.zeros(DType.F32, 4, 2), null, null, 1e-5)},
            {"dtypes differ", (Supplier<Object>) () -> x.addLayerNorm(Tensor.zeros(DType.F64, 2, 4), null, null, 1e-5)},
            {"bias must have shape [4], got [3]", (Supplier<Object>) () -> x.addLayerNorm(dy, null, Tensor.zeros(DType.F32, 3), 1e-5)},
            {"add_layer_norm is not defined for I64", (Supplier<Object>) () -> x.to(DType.I64).addLayerNorm(dy.to(DType.I64), null, null, 1e-5)},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") Supplier<Object> call = (Supplier<Object>) c[1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counting.around(call));
            assertTrue(e.getMessage().contains((String) c[0]) && !e.getMessage().contains("\n"), "expected '" + c[0] + "' in one line: " + e.getMessage());
        }
        assertEquals(0, counting.calls("layerNorm", 4) + counting.calls("layerNormBackward", 6) + counting.calls("addLayerNorm", 5),
                "no backend ran for refused parameters");
        counting.around(() -> x.layerNorm(Tensor.ones(DType.F32, 4), Tensor.zeros(DType.F32, 4), 1e-5));
        assertEquals(1, counting.calls("layerNorm", 4), "a good call reaches the backend once");
    }
}
