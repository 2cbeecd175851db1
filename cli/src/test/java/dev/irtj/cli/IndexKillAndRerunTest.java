package dev.irtj.cli;

import dev.irtj.index.LuceneIndex;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kill -9 during {@code irt index}, then a rerun: the index holds every file once. */
class IndexKillAndRerunTest {
    static final int CLASSES = 4, PER_CLASS = 15, FILES = CLASSES * PER_CLASS;

    static Process start(Path weights, Path images, Path index, Path log) throws IOException {
        // DeiT-Ti at 224 px, one image per forward pass on one thread: slow enough (tens of ms
        // per image) that the kill lands mid-run.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "dev.irtj.cli.Irt",
                "--threads", "1", "index", "--index", index.toString(), "--weights", weights.toString(), "--model", "deit_tiny_patch16_224",
                "--images", images.toString(), "--batch", "1", "--workers", "1", "--device", "cpu", "--commit-every", "3"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void killedIndexRunThenRerunHoldsEveryFileOnce(@TempDir Path dir) throws Exception {
        Path images = CliTest.imageFolder(dir.resolve("images"), CLASSES, PER_CLASS);
        Set<String> expected = new TreeSet<>();
        for (int c = 0; c < CLASSES; c++) for (int i = 0; i < PER_CLASS; i++) expected.add("class" + c + "/img" + i + ".png");
        Path weights = dir.resolve("deit_tiny.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.deitTiny(), new Rng(1), DType.F32), weights);
        Path index = dir.resolve("index");

        Process first = start(weights, images, index, dir.resolve("first.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        long seen = 0;
        while (first.isAlive() && System.nanoTime() < deadline && seen < 6) {
            Thread.sleep(20);
            seen = committed(index);
        }
        assertTrue(first.isAlive(), "the run ended before it could be killed: " + Files.readString(dir.resolve("first.log")));
        first.destroyForcibly();   // SIGKILL on Unix
        first.waitFor();
        long afterKill = committed(index);
        assertTrue(afterKill >= 6 && afterKill < FILES, "killed after " + afterKill + " of " + FILES + " images were committed");

        Process rerun = start(weights, images, index, dir.resolve("rerun.log"));
        assertTrue(rerun.waitFor(240, TimeUnit.SECONDS), "rerun timed out");
        String log = Files.readString(dir.resolve("rerun.log"));
        assertEquals(0, rerun.exitValue(), log);
        assertTrue(log.contains((FILES - afterKill) + " new, 0 changed, 0 removed"), log);
        try (LuceneIndex reader = LuceneIndex.openReadOnly(index)) {
            assertEquals(FILES, reader.info().count(), "every file once");
            assertEquals(expected, new TreeSet<>(reader.stamps().keySet()));
        }
    }

    private static long committed(Path index) {
        try (LuceneIndex reader = LuceneIndex.openReadOnly(index)) {
            return reader.info().count();
        } catch (IOException e) {
            return 0;   // not created yet
        }
    }
}
