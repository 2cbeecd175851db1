package dev.irtj.index;

import dev.irtj.tensor.Rng;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batch write (pending upserts written as one segment by {@code addIndexes} over a
 * {@link BatchReader}) against the plain one (each upsert an {@code updateDocument}): the same
 * documents, stamps and search results, the same field schema, CheckIndex clean, and segments of
 * both kinds in one index, merged or not.
 */
class BatchWritesTest {
    private static final int DIMS = 16;

    /** op 0: upsert a batch of ids from id with vectors from seed; 1: delete id; 2: commit; 3: search (an NRT read). */
    record Op(int kind, int id, int count, long seed) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 11),
                Arbitraries.integers().between(1, 6), Arbitraries.longs()).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(30);
    }

    /**
     * Any sequence of upsert batches (ids repeated within and across them), deletes, commits and
     * searches in between leaves both indexes with the same images and the same top-k (on these
     * few dozen documents the graph search with ef 100 finds the exact neighbours, so the two
     * graphs, which differ where the plain write keeps replaced documents' vectors until a merge,
     * give the same hits; scores are the raw vectors' dot products, equal to the bit).
     */
    @Property(tries = 30)
    void batchAndPlainWritesGiveTheSameIndex(@ForAll("ops") List<Op> ops) throws IOException {
        Path root = Files.createTempDirectory("batch-writes-prop");
        try {
            try (LuceneIndex batch = LuceneIndex.open(root.resolve("batch"), Vectors.MODEL_A, LuceneIndex.Options.defaults());
                    LuceneIndex plain = LuceneIndex.open(root.resolve("plain"), Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
                batch.batch(true);
                plain.batch(false);
                Rng queries = new Rng(7);
                for (Op op : ops) {
                    switch (op.kind()) {
                        case 0 -> {
                            Rng rng = new Rng(op.seed());
                            List<IndexedImage> images = new ArrayList<>();
                            for (int i = 0; i < op.count(); i++) images.add(Vectors.image("id" + ((op.id() + i * 5) % 12), Vectors.unit(rng, DIMS)));
                            batch.upsert(images);
                            plain.upsert(images);
                        }
                        case 1 -> {
                            batch.delete(List.of("id" + op.id()));
                            plain.delete(List.of("id" + op.id()));
                        }
                        case 2 -> {
                            batch.commit();
                            plain.commit();
                        }
                        default -> {
                            float[] q = Vectors.unit(queries, DIMS);
                            assertSameHits(plain.search(q, 5), batch.search(q, 5));
                        }
                    }
                }
                batch.commit();
                plain.commit();
                assertSameIndex(plain, batch);
            }
            try (LuceneIndex batch = LuceneIndex.openReadOnly(root.resolve("batch"));
                    LuceneIndex plain = LuceneIndex.openReadOnly(root.resolve("plain"))) {
                assertSameIndex(plain, batch);
            }
            CleanIndex.assertClean(root.resolve("batch"));
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    /**
     * 3000 distinct images in one commit: the same vectors in the same order, so the same graph
     * (the builder is deterministic), and so the same approximate top-10 at a small ef; exact
     * mode the same too; an int8 index (always written document by document) the same; the
     * segments' field schemas equal.
     */
    @Test
    void oneBatchBuildsTheSameSegmentAsDocumentByDocument(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(3, 3000, DIMS), queries = Vectors.units(4, 50, DIMS);
        for (LuceneIndex.Options options : List.of(LuceneIndex.Options.defaults(),
                LuceneIndex.Options.defaults().withQuantization(LuceneIndex.Quantization.INT8),
                LuceneIndex.Options.defaults().withExact(true))) {
            Path b = dir.resolve(options.quantization() + "-" + options.exact() + "-batch");
            Path p = dir.resolve(options.quantization() + "-" + options.exact() + "-plain");
            try (LuceneIndex batch = LuceneIndex.open(b, Vectors.MODEL_A, options);
                    LuceneIndex plain = LuceneIndex.open(p, Vectors.MODEL_A, options)) {
                batch.batch(true);
                plain.batch(false);
                List<IndexedImage> images = Vectors.images(data);
                for (int s = 0; s < images.size(); s += 1000) {
                    batch.upsert(images.subList(s, s + 1000));
                    plain.upsert(images.subList(s, s + 1000));
                }
                batch.commit();
                plain.commit();
                assertEquals(1, batch.segments());
                assertEquals(1, plain.segments());
                for (float[] q : queries) {
                    if (options.exact()) {
                        assertSameHits(plain.search(q, 10), batch.search(q, 10), options.toString());
                    } else {
                        assertSameHits(plain.search(q, 10, 10), batch.search(q, 10, 10), options.toString());
                    }
                }
                assertSameIndex(plain, batch);
            }
            assertSameSchema(p, b);
            CleanIndex.assertClean(b);
        }
    }

    /**
     * Segments of both writes in one index: a plain segment, then a batch replacing some of its
     * images and adding others, then plain again; the index equals the plain-only one before and
     * after merging into one segment, and stays clean.
     */
    @Test
    void segmentsOfBothWritesMixAndMerge(@TempDir Path dir) throws IOException {
        // Few enough replaced in each segment (under TieredMergePolicy's 20% of deletes) that no merge folds them before the explicit one.
        List<float[]> data = Vectors.units(5, 1100, DIMS), moved = Vectors.units(6, 1100, DIMS);
        List<IndexedImage> first = Vectors.images(data.subList(0, 600));
        List<IndexedImage> second = new ArrayList<>();
        for (int i = 500; i < 1100; i++) second.add(Vectors.image(Vectors.id(i), moved.get(i)));
        List<IndexedImage> third = Vectors.images(data).subList(1000, 1030);
        try (LuceneIndex mixed = LuceneIndex.open(dir.resolve("mixed"), Vectors.MODEL_A, LuceneIndex.Options.defaults());
                LuceneIndex plain = LuceneIndex.open(dir.resolve("plain"), Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            plain.batch(false);
            mixed.batch(false);
            mixed.upsert(first);
            plain.upsert(first);
            mixed.commit();
            plain.commit();
            mixed.batch(true);
            mixed.upsert(second);
            plain.upsert(second);
            mixed.delete(List.of(Vectors.id(10), Vectors.id(700)));
            plain.delete(List.of(Vectors.id(10), Vectors.id(700)));
            mixed.commit();
            plain.commit();
            assertEquals(2, mixed.segments());
            mixed.batch(false);
            mixed.upsert(third);
            plain.upsert(third);
            mixed.commit();
            plain.commit();
            assertEquals(3, mixed.segments());
            assertSameIndex(plain, mixed);
            mixed.merge(1);
            plain.merge(1);
            assertEquals(1, mixed.segments());
            assertSameIndex(plain, mixed);
            for (float[] q : Vectors.units(8, 30, DIMS)) assertSameHits(plain.search(q, 10), mixed.search(q, 10));
        }
        CleanIndex.assertClean(dir.resolve("mixed"));
    }

    /** Every image of both, field by field, and exact-score hits for each image's own vector. */
    private static void assertSameIndex(LuceneIndex expected, LuceneIndex actual) throws IOException {
        assertEquals(expected.info().count(), actual.info().count());
        Map<String, IndexedImage.Stamp> stamps = expected.stamps();
        assertEquals(new TreeMap<>(stamps), new TreeMap<>(actual.stamps()));
        for (String id : stamps.keySet()) {
            IndexedImage e = expected.get(id).orElseThrow(), a = actual.get(id).orElseThrow();
            assertSameImage(e, a);
            assertArrayEquals(e.vector(), a.vector(), id);
            assertSameHits(expected.search(e.vector(), 3), actual.search(e.vector(), 3));
        }
    }

    private static void assertSameHits(List<VectorIndex.Hit> expected, List<VectorIndex.Hit> actual) {
        assertSameHits(expected, actual, "");
    }

    private static void assertSameHits(List<VectorIndex.Hit> expected, List<VectorIndex.Hit> actual, String where) {
        assertEquals(ids(expected), ids(actual), where);
        for (int i = 0; i < expected.size(); i++) {
            assertSameImage(expected.get(i).image(), actual.get(i).image());
            assertEquals(expected.get(i).score(), actual.get(i).score(), 0f, where + " hit " + i);
        }
    }

    private static List<String> ids(List<VectorIndex.Hit> hits) {
        return hits.stream().map(h -> h.image().id()).toList();
    }

    private static void assertSameImage(IndexedImage e, IndexedImage a) {
        assertEquals(List.of(e.id(), e.path(), String.valueOf(e.label()), e.bytes(), e.modified(), e.width(), e.height(), e.metadata()),
                List.of(a.id(), a.path(), String.valueOf(a.label()), a.bytes(), a.modified(), a.width(), a.height(), a.metadata()));
    }

    /** Each field's schema in the two indexes' merged field infos (not their numbers or per-field format attributes). */
    private static void assertSameSchema(Path expected, Path actual) throws IOException {
        assertEquals(schema(expected), schema(actual));
    }

    private static List<String> schema(Path dir) throws IOException {
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            FieldInfos infos = FieldInfos.getMergedFieldInfos(r);
            List<String> out = new ArrayList<>();
            for (FieldInfo f : infos) {
                out.add(String.join(" ", f.name, String.valueOf(f.getIndexOptions()), String.valueOf(f.omitsNorms()),
                        String.valueOf(f.hasPayloads()), String.valueOf(f.hasVectors()), String.valueOf(f.getDocValuesType()),
                        String.valueOf(f.getPointDimensionCount()), String.valueOf(f.getVectorDimension()),
                        String.valueOf(f.getVectorEncoding()), String.valueOf(f.getVectorSimilarityFunction())));
            }
            out.sort(null);
            return out;
        }
    }

    /**
     * The first batch into an empty index is written without delete terms (none of its ids can
     * be there); every later batch still replaces: the same ids upserted again after an NRT read,
     * after a commit and after a reopen leave each image once, with its latest vector.
     */
    @Test
    void batchesAfterTheFirstStillReplaceTheirIds(@TempDir Path dir) throws IOException {
        Rng rng = new Rng(5);
        List<String> ids = List.of("a", "b", "c", "d");
        Map<String, float[]> latest = new TreeMap<>();
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            index.batch(true);
            for (int round = 0; round < 3; round++) {
                List<IndexedImage> batch = new ArrayList<>();
                for (String id : ids) {
                    float[] v = Vectors.unit(rng, DIMS);
                    latest.put(id, v);
                    batch.add(Vectors.image(id, v));
                }
                index.upsert(batch);
                if (round == 0) index.search(latest.get("a"), 2);   // the first batch written by an NRT read
                if (round == 1) index.commit();
            }
            index.commit();
        }
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            index.batch(true);
            float[] v = Vectors.unit(rng, DIMS);
            latest.put("a", v);
            index.upsert(List.of(Vectors.image("a", v)));
            index.commit();
            assertEquals(ids.size(), index.info().count(), "documents in the index");
            assertEquals(ids.size(), index.search(latest.get("b"), 10).size(), "every image once in the hits");
            for (String id : ids) assertArrayEquals(latest.get(id), index.get(id).orElseThrow().vector(), id);
        }
        CleanIndex.assertClean(dir);
    }

    /** A pending image keeps the vector it was upserted with, whatever the caller does to its array before the write. */
    @Test
    void aPendingImageKeepsItsVectorWhenTheCallerReusesTheArray(@TempDir Path dir) throws IOException {
        float[] v = Vectors.unit(new Rng(11), DIMS), kept = v.clone();
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            index.batch(true);
            index.upsert(List.of(Vectors.image("a", v)));
            Arrays.fill(v, 0f);
            v[0] = 1f;
            index.commit();
            assertArrayEquals(kept, index.get("a").orElseThrow().vector());
        }
    }

    /** A batch's own checks: unique ids, and vectors of the batch's dims (one line each). */
    @Test
    void batchReaderRefusesRepeatedIdsAndOtherDims() {
        var ids = List.of("a", "b", "a");
        var sums = List.of(new org.apache.lucene.util.BytesRef("x"), new org.apache.lucene.util.BytesRef("y"),
                new org.apache.lucene.util.BytesRef("z"));
        var vs = List.of(new float[DIMS], new float[DIMS], new float[DIMS]);
        IllegalArgumentException twice = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new BatchReader(ids, sums, vs, DIMS));
        assertEquals("id a twice in one batch", twice.getMessage());
        IllegalArgumentException dims = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new BatchReader(List.of("a"), sums.subList(0, 1), List.of(new float[3]), DIMS));
        assertTrue(dims.getMessage().contains("3-dim"), dims.getMessage());
    }
}
