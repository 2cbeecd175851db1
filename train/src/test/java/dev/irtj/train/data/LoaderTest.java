package dev.irtj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoaderTest {
    @TempDir
    Path root;

    private static final int S = 16;
    private final List<String> warnings = Collections.synchronizedList(new ArrayList<>());
    private Transforms transforms;

    @BeforeEach
    void setUp() {
        transforms = Transforms.forModel(S, 3); // resize 18, crop 16
    }

    /** 4 classes x 3 images of assorted sizes, PNG and JPEG. */
    private Dataset folder() throws IOException {
        String[] classes = {"ant", "bee", "cat", "dog"};
        for (int c = 0; c < classes.length; c++) {
            for (int i = 0; i < 3; i++) {
                String ext = i == 1 ? ".jpg" : ".png";
                TestImages.writeRgb(root.resolve(classes[c]).resolve("img" + i + ext), 18 + 3 * i + c, 24 - 2 * i, c * 10 + i);
            }
        }
        return ImageFolder.read(root);
    }

    private Loader.Options options(int workers, int prefetch) {
        return new Loader.Options(workers, prefetch, warnings::add);
    }

    private List<Batch> take(Loader loader, int n) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(loader.next());
        return out;
    }

    @Test
    void sameSeedGivesIdenticalPixelsWhateverTheThreadCount() throws IOException {
        Dataset d = folder();
        List<Batch> one, three;
        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 9), transforms, 42, 0, options(1, 1))) {
            one = take(l, 8);
        }
        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 9), transforms, 42, 0, options(3, 4))) {
            three = take(l, 8);
        }
        for (int b = 0; b < 8; b++) {
            assertEquals(b, one.get(b).number());
            assertArrayEquals(one.get(b).indices(), three.get(b).indices());
            assertArrayEquals(one.get(b).labels(), three.get(b).labels());
            assertArrayEquals(one.get(b).pixels(), three.get(b).pixels(), "batch " + b);
        }
        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 9), transforms, 43, 0, options(2, 2))) {
            assertFalse(Arrays.equals(one.get(0).pixels(), l.next().pixels()), "another seed, other augmentations");
        }
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    @Test
    void eachItemIsItsTrainTransform() throws IOException {
        Dataset d = folder();
        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 1), transforms, 5, 10, options(2, 2))) {
            Batch b = l.next();
            assertEquals(10, b.number());
            assertEquals(4, b.batchSize());
            long batchSeed = Rng.stream(5, 10).nextLong();
            for (int j = 0; j < 4; j++) {
                float[] expected = transforms.train(transforms.load(d.source(b.indices()[j])), Rng.stream(batchSeed, 2L * j));
                assertArrayEquals(expected, b.item(j));
                assertEquals(d.label(b.indices()[j]), b.labels()[j]);
            }
            Tensor t = b.toTensor();
            assertArrayEquals(new int[] {4, 3, S, S}, t.shape());
            assertArrayEquals(new int[] {4}, b.labelsTensor().shape());
        }
    }

    @Test
    void aCorruptImageIsReplacedByAnotherOfItsClassAndWarnedAboutOnce() throws IOException {
        Dataset clean = folder();
        Path bad = TestImages.writeGarbage(root.resolve("bee/corrupt.jpg"), 3);
        Dataset d = ImageFolder.read(root);
        assertEquals(clean.size() + 1, d.size());
        int badIndex = -1;
        for (int i = 0; i < d.size(); i++) if (d.source(i).describe().equals(bad.toString())) badIndex = i;
        assertTrue(badIndex >= 0);

        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 3), transforms, 8, 0, options(3, 3))) {
            for (int b = 0; b < 24; b++) { // six epochs: the corrupt image is drawn many times
                Batch batch = l.next();
                MPerClassSamplerTest.assertMPerClass(d, batch.indices(), 2, 2);
                for (int j = 0; j < 4; j++) assertNotEquals(badIndex, batch.indices()[j]);
                for (float v : batch.pixels()) assertTrue(Float.isFinite(v));
            }
            assertEquals(1, l.skippedCount());
            assertTrue(l.replacedCount() >= 1);
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains(bad.toString()), warnings.get(0));
        assertFalse(warnings.get(0).contains("\n"));
    }

    @Test
    void evaluationGoesInOrderAndZeroFillsUnreadableImages() throws IOException {
        folder();
        Path bad = TestImages.writeGarbage(root.resolve("cat/broken.jpg"), 4);
        Dataset d = ImageFolder.read(root);
        List<Batch> batches = new ArrayList<>();
        try (Loader l = Loader.evaluation(d, 5, transforms, options(2, 2))) {
            while (l.hasNext()) batches.add(l.next());
            assertEquals(1, l.skippedCount());
        }
        assertEquals(Loader.evaluationBatches(d, 5), batches.size());
        assertEquals(3, batches.size());
        assertEquals(3, batches.get(2).batchSize()); // 13 images
        int i = 0;
        for (Batch b : batches) {
            for (int j = 0; j < b.batchSize(); j++, i++) {
                assertEquals(i, b.indices()[j]);
                assertEquals(d.label(i), b.labels()[j]);
                if (d.source(i).describe().equals(bad.toString())) {
                    assertArrayEquals(new float[3 * S * S], b.item(j));
                } else {
                    assertArrayEquals(transforms.eval(transforms.load(d.source(i))), b.item(j));
                }
            }
        }
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains(bad.toString()));
    }

    @Test
    void resumingContinuesWithTheSameBatches() throws IOException {
        Dataset d = folder();
        MPerClassSampler.State state;
        long next;
        List<Batch> expected;
        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 11), transforms, 6, 0, options(2, 3))) {
            take(l, 5);
            state = l.samplerState();
            next = l.nextBatchNumber();
            expected = take(l, 4);
        }
        assertEquals(5, next);
        MPerClassSampler sampler = new MPerClassSampler(d, 4, 2, 11);
        sampler.restore(state);
        try (Loader l = Loader.training(d, sampler, transforms, 6, next, options(1, 1))) {
            for (Batch e : expected) {
                Batch b = l.next();
                assertEquals(e.number(), b.number());
                assertArrayEquals(e.indices(), b.indices());
                assertArrayEquals(e.pixels(), b.pixels());
            }
        }
    }

    @Test
    void mnistPixelsLoadWithoutFiles() throws IOException {
        Files2.idx(root);
        Dataset d = Idx.readMnistLayout(root, true, l -> l < 5);
        Transforms t = Transforms.forModel(4, 1).withResize(4);
        try (Loader l = Loader.training(d, new MPerClassSampler(d, 4, 2, 0), t, 1, 0, options(2, 2))) {
            Batch b = l.next();
            assertArrayEquals(new int[] {4, 1, 4, 4}, b.toTensor().shape());
            MPerClassSamplerTest.assertMPerClass(d, b.indices(), 2, 2);
        }
    }

    @Test
    void closedLoadersRefuseWorkAndBadIndicesAreReported() throws IOException {
        Dataset d = folder();
        Loader l = Loader.training(d, List.of(new int[] {0, 99}).iterator(), transforms, 0, 0, options(1, 1));
        assertThrows(IndexOutOfBoundsException.class, l::next);
        l.close();
        l.close();
        assertThrows(IllegalStateException.class, l::next);
        try (Loader e = Loader.evaluation(d, 4, transforms, options(1, 1))) {
            assertThrows(IllegalStateException.class, e::samplerState);
        }
    }

    /** IDX fixture for the MNIST loader test. */
    private static final class Files2 {
        static void idx(Path dir) throws IOException {
            java.nio.file.Files.write(dir.resolve("train-images-idx3-ubyte.gz"), TestImages.gzip(TestImages.idxImages(8, 4, 4)));
            java.nio.file.Files.write(dir.resolve("train-labels-idx1-ubyte"), TestImages.idxLabels(0, 1, 2, 7, 0, 1, 2, 8));
        }
    }
}
