package dev.irtj.eval;

import dev.irtj.tensor.Fuzzing;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of a valid ground-truth JSON file (issue 11, item 6): {@link GroundTruthFile#read}
 * gives ground truth that holds its documented invariants (indices within {@code imlist}, one
 * {@code qimlist} name and at most one box per query), or an {@link IOException} of one line
 * naming the file; never another exception, a hang or a large allocation.
 */
class GroundTruthFileFuzzTest {
    private static final String VALID = """
            {"dataset": "roxford5k", "imlist": ["a", "b", "c", "d"], "qimlist": ["q0", "q1"],
             "gnd": [{"easy": [0, 2], "hard": [1], "junk": [3], "bbx": [1.5, 2, 30, 40.25]},
                     {"hard": [3], "extra": "ignored"}]}
            """;
    private static final String SOURCE = "/data/gnd_roxford5k.json";

    @Property(tries = 400, seed = "20300")
    void mutatedGroundTruthReadsOrFailsInOneLine(@ForAll long seed) {
        byte[] text = Fuzzing.mutateText(VALID, new Random(seed));
        Fuzzing.bounded(Duration.ofSeconds(5), 16L << 20, () -> {
            try {
                GroundTruthFile g = GroundTruthFile.read(new ByteArrayInputStream(text), SOURCE);
                assertEquals(g.gnd().size(), g.queryBoxes().size());
                if (!g.qimlist().isEmpty()) assertEquals(g.gnd().size(), g.qimlist().size());
                for (GroundTruth q : g.gnd()) {
                    assertTrue(g.imlist().isEmpty() || q.maxIndex() < g.imlist().size(), q.toString());
                    for (int[] list : new int[][] {q.easy(), q.hard(), q.junk()}) for (int i : list) assertTrue(i >= 0);
                }
            } catch (IOException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), SOURCE);
            }
        });
    }
}
