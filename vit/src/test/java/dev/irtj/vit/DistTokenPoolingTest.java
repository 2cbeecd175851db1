package dev.irtj.vit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.irtj.autograd.GradCheck;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** CLS_DIST (--dist-token avg): timm's evaluation descriptor of a distilled DeiT, (x[:, 0] + x[:, 1]) / 2. */
class DistTokenPoolingTest {

    @Test
    void isTheMeanOfTheClassAndDistillationTokensOfADistilledModel() {
        VisionTransformer model = new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), true, new Rng(3), DType.F64);
        Var tokens = model.tokens(Var.constant(Tensor.randn(new Rng(4), DType.F64, 2, 3, 16, 16)));
        double[] t = tokens.data().toDoubleArray();          // [2, 2 + 4 patches, 16]
        int n = tokens.shape(1), d = tokens.shape(2);
        double[] expected = new double[2 * d];
        for (int b = 0; b < 2; b++) {
            for (int j = 0; j < d; j++) expected[b * d + j] = (t[(b * n) * d + j] + t[(b * n + 1) * d + j]) / 2;
        }
        double[] pooled = Pooling.CLS_DIST.apply(tokens, model.prefixTokens()).data().toDoubleArray();
        assertArrayEquals(expected, pooled, 1e-15);
        assertEquals(Pooling.CLS_DIST, Pooling.parse("cls_dist"));
    }

    @Test
    void passesGradCheckInF64() {
        GradCheck.check(in -> Pooling.CLS_DIST.apply(in[0], 2).l2Normalize(), Tensor.randn(new Rng(5), DType.F64, 3, 5, 4));
    }

    @Test
    void aModelWithoutADistillationTokenIsRefusedInOneLine() {
        Var tokens = Var.constant(Tensor.randn(new Rng(6), DType.F64, 1, 5, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pooling.CLS_DIST.apply(tokens, 1));
        assertEquals(Pooling.NEEDS_DISTILLED, e.getMessage());
    }
}
