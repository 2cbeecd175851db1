package dev.irtj.retrieval;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class MultiScaleDescriberTest {
    static final ViTConfig TINY = ViTConfig.of(32, 8, 3, 16, 1, 2, 4);

    private static BufferedImage image() {
        BufferedImage img = new BufferedImage(50, 37, BufferedImage.TYPE_INT_RGB);
        Rng r = new Rng(4);
        for (int y = 0; y < 37; y++) for (int x = 0; x < 50; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        return img;
    }

    @Test
    void sizesAreWholePatches() {
        assertEquals(160, MultiScaleDescriber.sizeAt(ViTConfig.deitSmall(), 0.7071));
        assertEquals(112, MultiScaleDescriber.sizeAt(ViTConfig.deitSmall(), 0.5));
        assertEquals(8, MultiScaleDescriber.sizeAt(TINY, 0.01), "at least one patch");
    }

    @Test
    void theNormalizedMeanOfTheScalesDescriptors() {
        VisionTransformer m = new VisionTransformer(TINY, new Rng(2), DType.F32);
        DescriptorPipeline.Options o = DescriptorPipeline.Options.defaults().withWorkers(1);
        try (DescriptorPipeline base = DescriptorPipeline.of(m, Pooling.GEM, 0.875, null, o);
             MultiScaleDescriber one = MultiScaleDescriber.of(base, 1);
             MultiScaleDescriber two = MultiScaleDescriber.of(base, 1, 0.5)) {
            BufferedImage img = image();
            float[] at1 = base.describe(img);
            assertArrayEquals(at1, one.describe(img).toFloatArray(), "scale 1 is the pipeline itself");

            // By hand: the same weights at 16 px (pos_embed resampled), described by its own pipeline.
            VisionTransformer half = new VisionTransformer(TINY.withImgSize(16), new Rng(0), DType.F32);
            TimmCheckpoint.loadInto(half, m.stateDict(), "test");
            float[] atHalf;
            try (DescriptorPipeline p = DescriptorPipeline.of(half, Pooling.GEM, 0.875, null, o)) {
                atHalf = p.describe(img);
            }
            double[] mean = new double[16];
            double n = 0;
            for (int i = 0; i < 16; i++) {
                mean[i] = at1[i] + atHalf[i];
                n += mean[i] * mean[i];
            }
            float[] got = two.describe(img).toFloatArray();
            // |a - b| <= 1e-6: float sums and norm against double ones.
            for (int i = 0; i < 16; i++) assertEquals(mean[i] / Math.sqrt(n), got[i], 1e-6, "element " + i);
        }
    }
}
