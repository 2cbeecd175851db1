package dev.irtj.train;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.ImageSource;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.SfM120k;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tuple source on the mini SfM-120k layout with a pool of every image, so the hardest
 * negatives can be found here independently: descriptors computed image by image (decode, eval
 * transform, model in evaluation mode), every image of another cluster ranked by similarity to
 * the query, the first of each cluster kept.
 */
class TupleBatchSourceTest {
    private static final ViTConfig TINY = ViTConfig.of(16, 8, 3, 16, 1, 2, 4);
    private static final TupleBatchSource.Settings SETTINGS = new TupleBatchSource.Settings(2, 3, 6, 30);

    @TempDir
    static Path dir;
    static SfM120k sfm;

    @BeforeAll
    static void miniLayout() throws IOException {
        try (InputStream in = TupleBatchSourceTest.class.getResourceAsStream("/sfm-mini/" + SfM120k.PICKLE)) {
            Files.copy(in, dir.resolve(SfM120k.PICKLE));
        }
        sfm = SfM120k.read(dir, SfM120k.Split.TRAIN);
        Rng rng = new Rng(8);
        for (int i = 0; i < sfm.images().size(); i++) {
            BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 20; y++) for (int x = 0; x < 20; x++) img.setRGB(x, y, rng.nextInt(1 << 24));
            Path file = ((ImageSource.File) sfm.images().source(i)).path();
            Files.createDirectories(file.getParent());
            ImageIO.write(img, "png", file.toFile());
        }
    }

    private static TupleBatchSource source(VisionTransformer model) {
        return new TupleBatchSource(sfm, model, Pooling.CLS, Transforms.forModel(16, 3), SETTINGS, 4, Loader.Options.defaults().withWorkers(1), 7);
    }

    @Test
    void negativesAreTheHardestOfOtherClustersOnePerClusterFromTheCurrentModel() throws IOException {
        VisionTransformer model = new VisionTransformer(TINY, new Rng(2), DType.F32);
        model.train(true);
        int size = SETTINGS.tupleSize(), n = sfm.images().size();
        try (TupleBatchSource s = source(model)) {
            Trainer.Batch b = s.next();
            assertTrue(model.isTraining(), "mining leaves the model in training mode");
            assertEquals(SETTINGS.tuplesPerBatch() * size, b.labels().length);
            int[] tuples = s.epochTuples();
            assertEquals(SETTINGS.batchesPerEpoch() * SETTINGS.tuplesPerBatch() * size, tuples.length);
            for (int i = 0; i < b.labels().length; i++) assertEquals(sfm.images().label(tuples[i]), b.labels()[i], "batch 0 is the epoch's first tuples");

            Transforms t = Transforms.forModel(16, 3);
            float[] pixels = new float[n * t.sampleLength()];
            for (int i = 0; i < n; i++) t.eval(t.load(sfm.images().source(i)), pixels, i * t.sampleLength());
            model.eval();
            float[] d = model.descriptor(Var.constant(Tensor.of(pixels, n, 3, 16, 16)), Pooling.CLS).data().toFloatArray();
            model.train(true);
            int dims = TINY.embedDim();
            for (int k = 0; k < tuples.length / size; k++) {
                int q = tuples[k * size], p = tuples[k * size + 1];
                boolean pair = false;
                for (int j = 0; j < sfm.queries().length; j++) pair |= sfm.queries()[j] == q && sfm.positives()[j] == p;
                assertTrue(pair, "tuple " + k + ": (" + q + ", " + p + ") is a query-positive pair of the file");
                double[] sim = new double[n];
                for (int j = 0; j < n; j++) for (int c = 0; c < dims; c++) sim[j] += (double) d[q * dims + c] * d[j * dims + c];
                Integer[] order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble(j -> -sim[j])).toArray(Integer[]::new);
                Set<Long> seen = new HashSet<>(Set.of(sfm.images().label(q)));
                int[] want = new int[SETTINGS.negatives()];
                int taken = 0;
                for (int j : order) if (taken < want.length && seen.add(sfm.images().label(j))) want[taken++] = j;
                assertArrayEquals(want, Arrays.copyOfRange(tuples, k * size + 2, (k + 1) * size), "tuple " + k + " negatives");
            }
        }
    }

    @Test
    void aRestoredSourceDeliversTheSameBatchesAndMinesTheNextEpochAlike() {
        VisionTransformer model = new VisionTransformer(TINY, new Rng(3), DType.F32);
        model.train(true);
        try (TupleBatchSource a = source(model); TupleBatchSource b = source(model)) {
            for (int i = 0; i < 2; i++) a.next();
            b.restore(a.state());
            for (int i = 0; i < 4; i++) {
                Trainer.Batch x = a.next(), y = b.next();
                assertArrayEquals(x.labels(), y.labels(), "batch " + (i + 2));
                assertArrayEquals(x.images().toFloatArray(), y.images().toFloatArray(), "batch " + (i + 2));
            }
            assertEquals(2, a.epochs());
            assertArrayEquals(a.epochTuples(), b.epochTuples());
        }
    }
}
