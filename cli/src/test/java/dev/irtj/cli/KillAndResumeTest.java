package dev.irtj.cli;

import dev.irtj.retrieval.RunConfig;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training process killed with SIGKILL after a checkpoint and resumed with --resume ends with
 * weights bit-identical to an uninterrupted run with the same seed.
 */
class KillAndResumeTest {

    static List<String> trainCommand(Path data, Path out, boolean resume) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "dev.irtj.cli.Irt",
                "train", "--data", data.toString(), "--format", "folder", "--img-size", "16", "--patch", "8", "--dim", "16",
                "--depth", "2", "--heads", "2", "--iters", "60", "--batch", "8", "--m", "2", "--lr", "1e-3", "--lambda", "0.7",
                "--seed", "11", "--checkpoint-every", "10", "--log-every", "5", "--out", out.toString()));
        if (resume) cmd.add("--resume");
        return cmd;
    }

    static Process start(List<String> cmd, Path log) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void killedAndResumedRunMatchesAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path data = CliTest.imageFolder(dir.resolve("data"), 4, 3);
        Path straight = dir.resolve("straight"), killed = dir.resolve("killed");

        Process a = start(trainCommand(data, straight, false), dir.resolve("straight.log"));
        assertTrue(a.waitFor(240, TimeUnit.SECONDS), "uninterrupted run timed out");
        assertEquals(0, a.exitValue(), Files.readString(dir.resolve("straight.log")));

        Process b = start(trainCommand(data, killed, false), dir.resolve("killed.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!checkpointAtLeast(killed, 20) && b.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(b.isAlive(), "the run finished before it could be killed; log: " + Files.readString(dir.resolve("killed.log")));
        b.destroyForcibly();   // SIGKILL on Unix
        b.waitFor();
        assertTrue(checkpointAtLeast(killed, 20));

        Process c = start(trainCommand(data, killed, true), dir.resolve("resumed.log"));
        assertTrue(c.waitFor(240, TimeUnit.SECONDS), "resumed run timed out");
        String log = Files.readString(dir.resolve("resumed.log"));
        assertEquals(0, c.exitValue(), log);
        assertTrue(log.contains("resuming"), log);
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(killed.resolve("model.safetensors")),
                "weights after kill + resume must be bit-identical");
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")).size(), Files.readAllLines(killed.resolve("metrics.jsonl")).size());
    }

    private static boolean checkpointAtLeast(Path run, long step) {
        try {
            Path index = run.resolve("checkpoint.json");
            return Files.exists(index) && ConfigReader.step(index) >= step;
        } catch (IOException e) {
            return false;   // caught mid-rename or mid-write
        }
    }

    /** Reads the step of a checkpoint index. */
    static final class ConfigReader {
        static long step(Path index) throws IOException {
            return RunConfig.json().readTree(index.toFile()).get("step").asLong();
        }
    }
}
