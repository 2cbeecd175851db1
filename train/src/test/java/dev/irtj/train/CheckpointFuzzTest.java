package dev.irtj.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.tensor.Fuzzing;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of a run's {@code checkpoint.json} (issue 11, item 6): {@link Checkpoint#load}
 * gives the checkpoint of this run folder at the step its file was written, or an {@link
 * IOException} of one line naming checkpoint.json (or, past it, the checkpoint file); never a file
 * outside the run, another exception, a hang or a large allocation.
 */
class CheckpointFuzzTest {
    /** A run with one checkpoint at step 6, written once; each try overwrites only checkpoint.json. */
    private static Path root, run;
    private static String valid;

    @BeforeContainer
    static void aRunWithACheckpoint() throws IOException {
        root = Files.createTempDirectory("ckpt-fuzz");
        run = Files.createDirectories(root.resolve("run"));
        ObjectNode state = Checkpoint.json().createObjectNode();
        state.put("sampler", 42).putArray("memory").add(1).add(2);
        Checkpoint.save(run, 6, Map.of("model.w", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)), state);
        // Bait: a safetensors file outside the run that an edited name could reach.
        Files.copy(run.resolve("checkpoint-00000006.safetensors"), root.resolve("checkpoint-00000009.safetensors"));
        valid = Files.readString(run.resolve(Checkpoint.INDEX));
    }

    @AfterContainer
    static void delete() throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Property(tries = 300, seed = "20260")
    void mutatedCheckpointIndexesLoadThisRunsCheckpointOrFailInOneLine(@ForAll long seed) throws Exception {
        Files.write(run.resolve(Checkpoint.INDEX), Fuzzing.mutateText(valid, new Random(seed)));
        Fuzzing.bounded(Duration.ofSeconds(5), 16L << 20, () -> {
            try {
                Checkpoint.Loaded c = Checkpoint.load(run);
                assertEquals(run.toAbsolutePath().normalize(), c.file().getParent(), "read inside the run: " + c.file());
                assertEquals(6, c.step(), "the step the file was written at");
                assertEquals(4, c.tensors().get("model.w").numel());
            } catch (IOException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), run.toString());
                assertTrue(e.getMessage().contains(Checkpoint.INDEX) || e.getMessage().contains(".safetensors"), e.getMessage());
            }
        });
    }
}
