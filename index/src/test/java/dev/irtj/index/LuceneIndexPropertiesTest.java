package dev.irtj.index;

import dev.irtj.tensor.Rng;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Any sequence of upserts, deletes and commits leaves the index equal to a map of the same operations. */
class LuceneIndexPropertiesTest {
    /** op 0: upsert id with a vector from seed; 1: delete id; 2: commit. */
    record Op(int kind, int id, long seed) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 7),
                Arbitraries.longs()).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 25)
    void indexEqualsAMapOfTheSameOperations(@ForAll("ops") List<Op> ops) throws IOException {
        Path dir = Files.createTempDirectory("lucene-index-prop");
        try {
            Map<String, float[]> model = new HashMap<>();
            try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
                for (Op op : ops) {
                    String id = "id" + op.id();
                    switch (op.kind()) {
                        case 0 -> {
                            float[] v = Vectors.unit(new Rng(op.seed()), 16);
                            index.upsert(List.of(Vectors.image(id, v)));
                            model.put(id, v);
                        }
                        case 1 -> {
                            index.delete(List.of(id));
                            model.remove(id);
                        }
                        default -> index.commit();
                    }
                }
                index.commit();
                check(index, model);
            }
            try (LuceneIndex reopened = LuceneIndex.openReadOnly(dir)) {
                check(reopened, model);
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    private static void check(LuceneIndex index, Map<String, float[]> model) throws IOException {
        assertEquals(model.keySet(), index.stamps().keySet());
        assertEquals(model.size(), index.info().count());
        for (Map.Entry<String, float[]> e : model.entrySet()) {
            assertArrayEquals(e.getValue(), index.get(e.getKey()).orElseThrow().vector(), e.getKey());
            // The exact copy of a stored vector is its own best match (ties: an equal vector with a smaller id).
            VectorIndex.Hit top = index.search(e.getValue(), 1).get(0);
            assertEquals(1.0f, top.score(), 1e-5f);
        }
    }
}
