package dev.irtj.retrieval;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.ImageSource;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import dev.irtj.vit.image.ImageDecoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way into the pipeline gives the same descriptor; sources round-trip; fingerprints tell models apart. */
class DescriptorPipelineTest {
    @TempDir
    static Path dir;
    static Path weights;
    static final ViTConfig CONFIG = ViTConfig.of(16, 8, 3, 24, 1, 2, 2);
    static final List<Path> files = new ArrayList<>();

    @BeforeAll
    static void weightsAndImages() throws IOException {
        weights = dir.resolve("w.safetensors");
        TimmCheckpoint.save(new VisionTransformer(CONFIG, new Rng(5), DType.F32), weights);
        Rng rng = new Rng(1);
        for (int i = 0; i < 7; i++) {
            BufferedImage img = new BufferedImage(20 + i, 17, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (int) (rng.nextDouble() * 0xFFFFFF));
            }
            Path f = dir.resolve("img" + i + ".png");
            ImageIO.write(img, "png", f.toFile());
            files.add(f);
        }
        Files.write(dir.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2});
    }

    static DescriptorPipeline open(ModelSource s, int batch) throws IOException {
        return DescriptorPipeline.open(s, DescriptorPipeline.Options.defaults().withBatch(batch).withWorkers(2).withWarnings(w -> { }));
    }

    @Test
    void fileImageBatchAndDatasetPathsAgree() throws IOException {
        List<Path> withBroken = new ArrayList<>(files);
        withBroken.add(3, dir.resolve("broken.png"));
        try (DescriptorPipeline p = open(new ModelSource.Weights(weights, CONFIG, Pooling.AVG, null), 3)) {
            List<ImageDescriber.Described> all = new ArrayList<>();
            p.describeAll(withBroken, all::add);
            assertEquals(withBroken.size(), all.size());
            assertNull(all.get(3).vector(), "the broken file fails alone");
            assertTrue(all.get(3).error() != null && !all.get(3).error().isBlank());
            List<ImageSource> sources = new ArrayList<>();
            for (Path f : withBroken) sources.add(ImageSource.file(f));
            DescriptorPipeline.Descriptors ds = p.describe(Dataset.of("t", sources, new long[withBroken.size()]));
            assertArrayEquals(new int[] {0, 1, 2, 4, 5, 6, 7}, ds.rows());
            assertEquals(1, ds.skipped());
            float[] rows = ds.vectors().toFloatArray();
            for (int i = 0, r = 0; i < withBroken.size(); i++) {
                if (i == 3) continue;
                float[] one = p.describe(withBroken.get(i));
                float[] img = p.describe(ImageDecoder.readRgb(withBroken.get(i)));
                float[] batched = all.get(i).vector();
                assertEquals(20 + (i > 3 ? i - 1 : i), all.get(i).width());
                double norm = 0;
                for (int j = 0; j < p.dims(); j++) {
                    // batches of 3 and of 1 run different GEMM shapes: F32 rounding only
                    assertEquals(one[j], batched[j], 1e-5, "file vs batch, image " + i);
                    assertEquals(one[j], img[j], 0, "file vs decoded image, image " + i);
                    assertEquals(batched[j], rows[r * p.dims() + j], 0, "batch vs dataset, image " + i);
                    norm += one[j] * one[j];
                }
                assertEquals(1, norm, 1e-5);
                r++;
            }
        }
    }

    @Test
    void sourcesRoundTripThroughJsonAndReopenToTheSameFingerprint() throws IOException {
        ModelSource s = new ModelSource.Weights(weights, CONFIG, Pooling.GEM, 0.9);
        assertEquals(s, ModelSource.fromJson(s.toJson()));
        ModelSource r = new ModelSource.Run(dir.resolve("some-run"), null, null, false);
        assertEquals(r, ModelSource.fromJson(r.toJson()));
        try (DescriptorPipeline p = open(s, 4)) {
            ImageDescriber again = DescriptorPipeline.reopen(p.source());
            assertEquals(p.fingerprint(), again.fingerprint());
            assertArrayEquals(p.describe(files.get(0)), again.describe(files.get(0)));
            assertTrue(p.describe().contains("gem pooling") && p.describe().contains("crop 0.9"), p.describe());
        }
        assertThrows(IOException.class, () -> ModelSource.fromJson("{\"kind\":\"lasers\"}"));
        assertThrows(IOException.class, () -> ModelSource.fromJson("not json"));
    }

    @Test
    void fingerprintsChangeWithWeightsPoolingAndCrop() throws IOException {
        Path other = dir.resolve("other.safetensors");
        TimmCheckpoint.save(new VisionTransformer(CONFIG, new Rng(6), DType.F32), other);
        List<String> prints = new ArrayList<>();
        for (ModelSource s : List.of(new ModelSource.Weights(weights, CONFIG, Pooling.CLS, null),
                new ModelSource.Weights(other, CONFIG, Pooling.CLS, null),
                new ModelSource.Weights(weights, CONFIG, Pooling.MAX, null),
                new ModelSource.Weights(weights, CONFIG, Pooling.CLS, 0.5))) {
            try (DescriptorPipeline p = open(s, 2)) {
                prints.add(p.fingerprint());
            }
        }
        assertEquals(prints.size(), prints.stream().distinct().count(), prints.toString());
        try (DescriptorPipeline a = open(new ModelSource.Weights(weights, CONFIG, Pooling.CLS, null), 2);
             DescriptorPipeline b = open(new ModelSource.Weights(weights, CONFIG, Pooling.CLS, 0.875), 2)) {
            assertEquals(a.fingerprint(), b.fingerprint(), "the default crop is 0.875");
        }
        assertNotEquals(prints.get(0), prints.get(3));
    }

    @Test
    void cropPctSetsTheResize() {
        assertEquals(256, DescriptorPipeline.evalTransform(224, 3, 0.875).resize());
        assertEquals(248, DescriptorPipeline.evalTransform(224, 3, 0.9).resize(), "timm's DeiT eval: floor(224 / 0.9)");
        assertEquals(224, DescriptorPipeline.evalTransform(224, 3, 1.0).resize());
        assertEquals(32, DescriptorPipeline.evalTransform(28, 1, 0.875).resize());
        assertThrows(IllegalArgumentException.class, () -> DescriptorPipeline.evalTransform(224, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> new ModelSource.Weights(weights, CONFIG, null, 1.01));
    }

    @Test
    void shardsRefuseAManifestThatPointsOutsideTheFolder() throws IOException {
        Path out = dir.resolve("shards-evil");
        Files.createDirectories(out);
        Files.writeString(out.resolve(DescriptorShards.MANIFEST), "{\"format\":\"" + DescriptorShards.FORMAT
                + "\",\"fingerprint\":\"x\",\"dims\":4,\"shards\":[{\"file\":\"../w.safetensors\",\"count\":1}],\"failed\":{}}");
        IOException e = assertThrows(IOException.class, () -> DescriptorShards.read(out));
        assertTrue(e.getMessage().contains("not a file of this folder"), e.getMessage());
        for (String bad : new String[] {"\"dims\":-4,\"shards\":[]", "\"dims\":4,\"shards\":[{\"count\":1}]", "\"dims\":4,\"shards\":[] x"}) {
            Files.writeString(out.resolve(DescriptorShards.MANIFEST), "{\"format\":\"" + DescriptorShards.FORMAT + "\",\"fingerprint\":\"x\"," + bad + ",\"failed\":{}}");
            IOException b = assertThrows(IOException.class, () -> DescriptorShards.read(out), bad);
            assertTrue(b.getMessage().contains(DescriptorShards.MANIFEST) && !b.getMessage().contains("\n"), b.getMessage());
        }
        Files.writeString(out.resolve(DescriptorShards.MANIFEST), "");
        IOException empty = assertThrows(IOException.class, () -> DescriptorShards.read(out));
        assertTrue(empty.getMessage().contains(DescriptorShards.MANIFEST), empty.getMessage());
    }
}
