package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attention's shapes are resolved and checked once, in {@link AttentionPlan} (forward) and
 * {@link Tensor#attentionBackward} (backward): a bad q, k, v, scale, upstream gradient or
 * gradient destination is refused with one line naming it before any backend runs.
 */
class AttentionPlanTest {

    @Test
    void resolvesThePackedLayoutOfTheViT() {
        Tensor qkv = Tensor.zeros(DType.F32, 2, 5, 3 * 6);
        Tensor parts = qkv.reshape(2, 5, 3, 3, 2).permute(2, 0, 3, 1, 4);
        AttentionPlan plan = AttentionPlan.resolve(parts.select(0, 0), parts.select(0, 1), parts.select(0, 2), 0.5);
        assertEquals(2, plan.batch());
        assertEquals(3, plan.heads());
        assertEquals(5, plan.tokens());
        assertEquals(2, plan.headDim());
        assertArrayEquals(new int[] {2, 5, 6}, plan.outShape());
        assertArrayEquals(new int[] {2, 3, 5}, plan.lseShape());
    }

    @Test
    void badInputsAreRefusedBeforeAnyBackendRuns() {
        CountingBackend counting = new CountingBackend();
        Tensor q = Tensor.zeros(DType.F32, 1, 2, 3, 4), k = Tensor.zeros(DType.F32, 1, 2, 3, 4), v = Tensor.zeros(DType.F32, 1, 2, 3, 4);
        AttentionPlan plan = AttentionPlan.resolve(q, k, v, 0.5);
        Tensor out = Tensor.zeros(DType.F32, 1, 3, 8), lse = Tensor.zeros(DType.F32, 1, 2, 3);
        Tensor g = Tensor.zeros(DType.F32, 1, 3, 8), dq = Tensor.zeros(DType.F32, 1, 2, 3, 4);
        Object[][] cases = {
            {"q must be [B, H, N, head_dim], got [2, 3, 4]", (Supplier<Object>) () -> AttentionPlan.resolve(q.select(0, 0), k, v, 0.5)},
            {"k [1, 2, 4, 3] must have q's shape [1, 2, 3, 4]", (Supplier<Object>) () -> AttentionPlan.resolve(q, k.transpose(2, 3), v, 0.5)},
            {"q is F32, v is F64", (Supplier<Object>) () -> AttentionPlan.resolve(q, k, v.to(DType.F64), 0.5)},
            {"not defined for I64", (Supplier<Object>) () -> AttentionPlan.resolve(q.to(DType.I64), k, v, 0.5)},
            {"scale must be finite, got NaN", (Supplier<Object>) () -> AttentionPlan.resolve(q, k, v, Double.NaN)},
            {"dOut must be [1, 3, 8], got [1, 8, 3]", (Supplier<Object>) () -> {
                Tensor.attentionBackward(plan, out, lse, g.transpose(1, 2), dq, dq, dq);
                return null;
            }},
            {"lse must be [1, 2, 3], got [1, 3, 8]", (Supplier<Object>) () -> {
                Tensor.attentionBackward(plan, out, out, g, dq, dq, dq);
                return null;
            }},
            {"dv is F64, q is F32", (Supplier<Object>) () -> {
                Tensor.attentionBackward(plan, out, lse, g, dq, dq, dq.to(DType.F64));
                return null;
            }},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked") Supplier<Object> call = (Supplier<Object>) c[1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counting.around(call));
            assertTrue(e.getMessage().contains((String) c[0]) && !e.getMessage().contains("\n"), "expected '" + c[0] + "' in one line: " + e.getMessage());
        }
        assertEquals(0, counting.calls("attention", 1) + counting.calls("attentionBackward", 7), "no backend ran for refused inputs");
        counting.around(() -> Tensor.attention(plan));
        assertEquals(1, counting.calls("attention", 1), "a good call reaches the backend once");
    }
}
