package dev.irtj.cli;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.irtj.retrieval.DescriptorShards;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --dist-token cls|avg in irt embed and irt train: plumbing, and refusals in one line before work. */
class DistTokenTest {
    private static final String[] SHAPE = {"--img-size", "16", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2"};

    @Test
    void avgIsClsDistPoolingAndDiffersFromTheClassToken(@TempDir Path dir) throws IOException {
        Path images = CliTest.imageFolder(dir.resolve("img"), 2, 3);
        Path distilled = dir.resolve("distilled.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), true, new Rng(2), DType.F32), distilled);

        float[] cls = embed(dir, distilled, images, "cls", "--dist-token", "cls");
        float[] avg = embed(dir, distilled, images, "avg", "--dist-token", "avg");
        float[] pool = embed(dir, distilled, images, "pool", "--pool", "cls_dist");
        assertArrayEquals(pool, avg, "--dist-token avg is --pool cls_dist");
        assertFalse(Arrays.equals(cls, avg), "the distillation token changes the descriptor");
        assertNotEquals(DescriptorShards.read(dir.resolve("cls")).fingerprint(), DescriptorShards.read(dir.resolve("avg")).fingerprint());
    }

    @Test
    void refusalsAreOneLineBeforeWork(@TempDir Path dir) throws IOException {
        Path images = CliTest.imageFolder(dir.resolve("img"), 2, 3);
        Path plain = dir.resolve("plain.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), new Rng(2), DType.F32), plain);

        CliTest.Result notDistilled = irt(concat(concat("embed", "--weights", plain.toString(), "--images", images.toString(),
                "--out", dir.resolve("a").toString(), "--dist-token", "avg"), SHAPE));
        assertEquals(1, notDistilled.err().strip().lines().count(), notDistilled.err());
        assertTrue(notDistilled.code() != 0 && notDistilled.err().contains("needs a distilled model"), notDistilled.err());
        assertFalse(Files.exists(dir.resolve("a").resolve(DescriptorShards.MANIFEST)));

        CliTest.Result both = irt(concat(concat("embed", "--weights", plain.toString(), "--images", images.toString(),
                "--out", dir.resolve("b").toString(), "--dist-token", "cls", "--pool", "gem"), SHAPE));
        assertTrue(both.code() != 0 && both.err().contains("--dist-token cls picks a token; it cannot be combined with --pool gem"), both.err());

        CliTest.Result train = irt("train", "--data", images.toString(), "--format", "folder", "--img-size", "16", "--patch", "8",
                "--dim", "16", "--depth", "1", "--heads", "2", "--batch", "4", "--iters", "1", "--dist-token", "avg", "--out", dir.resolve("run").toString());
        assertTrue(train.code() != 0 && train.err().contains("needs a distilled model"), train.err());
        assertFalse(Files.exists(dir.resolve("run")), "nothing written for a refused run");
    }

    private static float[] embed(Path dir, Path weights, Path images, String out, String... extra) throws IOException {
        String[] a = concat("embed", "--weights", weights.toString(), "--images", images.toString(), "--out", dir.resolve(out).toString());
        CliTest.Result r = irt(concat(concat(a, SHAPE), extra));
        assertEquals(0, r.code(), r.err());
        return DescriptorShards.read(dir.resolve(out)).descriptors().toFloatArray();
    }

    private static String[] concat(String... a) {
        return a;
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
