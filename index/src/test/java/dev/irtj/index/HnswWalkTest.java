package dev.irtj.index;

import dev.irtj.tensor.Rng;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HnswWalk} over {@link SegmentGraph} against Lucene's own graph search of the same
 * segments: the same candidates, in the same order, on one segment (with and without
 * deletions, below and above the segment's size); at least Lucene's recall on several; and
 * through {@link LuceneIndex} the same hits with the walk on and off, for the edge cases.
 */
class HnswWalkTest {
    private static final int DIMS = 16;

    private static List<IndexedImage> build(Path dir, List<float[]> data, int batch, int deleteEvery, LuceneIndex.Options options,
                                            boolean mergeToOne) throws IOException {
        List<IndexedImage> images = Vectors.images(data);
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, options)) {
            for (int from = 0; from < data.size(); from += batch) {
                index.upsert(images.subList(from, Math.min(data.size(), from + batch)));
                index.commit();
            }
            if (mergeToOne) index.merge(1);
            if (deleteEvery > 0) {
                List<String> gone = new ArrayList<>();
                for (int i = 3; i < data.size(); i += deleteEvery) gone.add(Vectors.id(i));
                index.delete(gone);
                index.commit();
            }
        }
        return images;
    }

    private static SegmentGraph[] graphs(List<LeafReaderContext> leaves) throws IOException {
        SegmentGraph[] g = new SegmentGraph[leaves.size()];
        for (int l = 0; l < g.length; l++) {
            g[l] = SegmentGraph.of(leaves.get(l).reader(), LuceneIndex.F_VECTOR);
            assertNotNull(g[l], "segment " + l + " is walkable");
        }
        return g;
    }

    /**
     * One segment: for n below, at and above the segment's size, with and without deleted
     * documents, the walk's candidates are Lucene's, doc for doc and in order. Random Gaussian
     * unit vectors have no score ties at float precision, so the order is the scores' alone.
     */
    @Test
    void oneSegmentGivesLucenesCandidatesExactly(@TempDir Path tmp) throws IOException {
        List<float[]> data = Vectors.units(41, 1500, DIMS);
        List<float[]> queries = Vectors.units(42, 60, DIMS);
        for (int deleteEvery : new int[] {0, 7}) {
            Path dir = tmp.resolve("d" + deleteEvery);
            build(dir, data, 500, deleteEvery, LuceneIndex.Options.defaults(), true);
            try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
                assertEquals(1, r.leaves().size());
                assertEquals(deleteEvery > 0, r.hasDeletions());
                IndexSearcher s = new IndexSearcher(r);
                SegmentGraph[] g = graphs(r.leaves());
                assertTrue(g[0].levels() > 1, "a graph with upper levels: " + g[0].levels());
                for (int n : new int[] {1, 10, 40, 100, 1499, 1500, 4000}) {
                    for (float[] q : queries) {
                        int[] lucene = LuceneIndex.luceneCandidates(s, r.leaves(), q, n);
                        int[] walk = LuceneIndex.walkCandidates(r.leaves(), g, q, n);
                        assertArrayEquals(lucene, walk, "n " + n + " deleteEvery " + deleteEvery);
                    }
                }
            }
        }
    }

    /**
     * Several segments (with deletions), where Lucene's collector prunes each segment with the
     * best scores of those searched before it and the walk does not: the walk's recall@10
     * against exact search is at least Lucene's minus 0.005, on random sets of two sizes.
     */
    @Test
    void severalSegmentsRecallAtLeastLucenes(@TempDir Path tmp) throws IOException {
        for (int n : new int[] {900, 3000}) {
            List<float[]> data = Vectors.units(50 + n, n, DIMS);
            List<float[]> queries = Vectors.units(60 + n, 100, DIMS);
            Path dir = tmp.resolve("n" + n);
            List<IndexedImage> images = build(dir, data, n / 4, 11, LuceneIndex.Options.defaults(), false);
            Set<String> deleted = new HashSet<>();
            for (int i = 3; i < n; i += 11) deleted.add(Vectors.id(i));
            try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
                assertTrue(r.leaves().size() >= 4, "several segments: " + r.leaves().size());
                IndexSearcher s = new IndexSearcher(r);
                SegmentGraph[] g = graphs(r.leaves());
                for (int ef : new int[] {10, 20}) {
                    double luceneHits = 0, walkHits = 0;
                    for (float[] q : queries) {
                        Set<Integer> truth = exactTop(r, images, deleted, q, 10);
                        luceneHits += overlap(top10(s, r, LuceneIndex.luceneCandidates(s, r.leaves(), q, ef), q), truth);
                        walkHits += overlap(top10(s, r, LuceneIndex.walkCandidates(r.leaves(), g, q, ef), q), truth);
                    }
                    double lucene = luceneHits / (10.0 * queries.size()), walk = walkHits / (10.0 * queries.size());
                    assertTrue(walk >= lucene - 0.005, "n " + n + " ef " + ef + ": walk recall " + walk + " vs Lucene's " + lucene);
                }
            }
        }
    }

    /** The best 10 of candidates by exact dot product (global docs). */
    private static Set<Integer> top10(IndexSearcher s, DirectoryReader r, int[] docs, float[] q) throws IOException {
        float[][] v = vectorsByDoc(r);
        Integer[] order = Arrays.stream(docs).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Float.compare(VectorDot.dot(v[b], q), VectorDot.dot(v[a], q)));
        return new HashSet<>(Arrays.asList(order).subList(0, Math.min(10, order.length)));
    }

    private static float[][] vectorsByDoc(DirectoryReader r) throws IOException {
        float[][] out = new float[r.maxDoc()][];
        for (LeafReaderContext leaf : r.leaves()) {
            var values = leaf.reader().getFloatVectorValues(LuceneIndex.F_VECTOR);
            for (int doc = values.nextDoc(); doc != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS; doc = values.nextDoc()) {
                out[leaf.docBase + doc] = values.vectorValue().clone();
            }
        }
        return out;
    }

    /** Global docs of the exact top k among live documents. */
    private static Set<Integer> exactTop(DirectoryReader r, List<IndexedImage> images, Set<String> deleted, float[] q, int k)
            throws IOException {
        float[][] v = vectorsByDoc(r);
        List<Integer> live = new ArrayList<>();
        for (LeafReaderContext leaf : r.leaves()) {
            var bits = leaf.reader().getLiveDocs();
            for (int doc = 0; doc < leaf.reader().maxDoc(); doc++) if (bits == null || bits.get(doc)) live.add(leaf.docBase + doc);
        }
        assertEquals(images.size() - deleted.size(), live.size());
        live.sort((a, b) -> Float.compare(VectorDot.dot(v[b], q), VectorDot.dot(v[a], q)));
        return new HashSet<>(live.subList(0, Math.min(k, live.size())));
    }

    private static int overlap(Set<Integer> a, Set<Integer> b) {
        int c = 0;
        for (Integer x : a) if (b.contains(x)) c++;
        return c;
    }

    /**
     * Through the index, walk on and off: the same hits (ids and scores) for an empty index, a
     * one-document index, an index whose every document is deleted, a query of zeros, and
     * several segments with deletions at an ef covering every document.
     */
    @Test
    void indexSearchesAgreeWithTheWalkOnAndOff(@TempDir Path tmp) throws IOException {
        float[] q = Vectors.unit(new Rng(5), DIMS);
        float[] zeros = new float[DIMS];
        try (LuceneIndex index = LuceneIndex.open(tmp.resolve("a"), Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            assertSameBothWays(index, q, 5, 50, 0);
            index.upsert(List.of(Vectors.image(Vectors.id(0), Vectors.unit(new Rng(6), DIMS))));
            index.commit();
            assertSameBothWays(index, q, 5, 50, 1);
            assertSameBothWays(index, zeros, 5, 50, 1);
            index.delete(List.of(Vectors.id(0)));
            index.commit();
            assertSameBothWays(index, q, 5, 50, 0);
        }
        build(tmp.resolve("b"), Vectors.units(70, 800, DIMS), 200, 9, LuceneIndex.Options.defaults(), false);
        try (LuceneIndex index = LuceneIndex.openReadOnly(tmp.resolve("b"))) {
            int live = (int) index.info().count();
            assertSameBothWays(index, q, 10, 800, 10);
            assertSameBothWays(index, zeros, 10, 800, 10);
            assertSameBothWays(index, q, live, 800, live);
        }
    }

    private static void assertSameBothWays(LuceneIndex index, float[] q, int k, int ef, int expected) throws IOException {
        index.walk(false);
        List<VectorIndex.Hit> lucene = index.search(q, k, ef);
        index.walk(true);
        List<VectorIndex.Hit> walk = index.search(q, k, ef);
        assertEquals(expected, walk.size());
        assertEquals(lucene, walk);
    }

    /** int8-quantized segments are not walked: Lucene's quantized search answers, as before. */
    @Test
    void quantizedSegmentsAreLeftToLucene(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(80, 300, DIMS);
        build(dir, data, 300, 0, LuceneIndex.Options.defaults().withQuantization(LuceneIndex.Quantization.INT8), false);
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            assertNull(SegmentGraph.of(r.leaves().get(0).reader(), LuceneIndex.F_VECTOR));
        }
        try (LuceneIndex index = LuceneIndex.openReadOnly(dir)) {
            assertEquals(Vectors.id(17), index.search(data.get(17), 1, 20).get(0).image().id());
            assertSameBothWays(index, data.get(3), 10, 40, 10);
        }
    }

    /** The primitive heap pops what java.util.PriorityQueue pops, over random pushes, pops and replacements. */
    @Test
    void longHeapOrdersAsAPriorityQueue() {
        Rng rng = new Rng(9);
        HnswWalk.LongHeap heap = new HnswWalk.LongHeap();
        PriorityQueue<Long> reference = new PriorityQueue<>();
        for (int step = 0; step < 20000; step++) {
            int op = (int) (rng.nextDouble() * 3);
            long v = (long) (rng.nextGaussian() * 1e6) * 31 + step;
            if (op == 0 || reference.isEmpty()) {
                heap.push(v);
                reference.add(v);
            } else if (op == 1) {
                assertEquals(reference.poll(), heap.pop());
            } else {
                reference.poll();
                reference.add(v);
                heap.replaceTop(v);
            }
            assertEquals(reference.size(), heap.size());
            if (!reference.isEmpty()) assertEquals(reference.peek(), heap.top());
        }
    }

    /** Keys order by score, then by the lower node, and decode to what they encode. */
    @Test
    void keysOrderByScoreThenLowerNode() {
        assertTrue(HnswWalk.key(0.75f, 3) > HnswWalk.key(0.5f, 1));
        assertTrue(HnswWalk.key(0.5f, 1) > HnswWalk.key(0.5f, 2));
        assertTrue(HnswWalk.key(0f, 0) > HnswWalk.key(-0.25f, 0));
        for (float s : new float[] {0f, 1e-30f, 0.5f, 1f, -1f}) {
            for (int ord : new int[] {0, 1, 12345, Integer.MAX_VALUE}) {
                long k = HnswWalk.key(s, ord);
                assertEquals(s, HnswWalk.score(k), 0f);
                assertEquals(ord, HnswWalk.ord(k));
            }
        }
    }

    /** The offset dot product is the plain one on a copy of the row, bit for bit (both paths of VectorDot). */
    @Test
    void offsetDotIsTheDotOfTheRow() {
        Rng rng = new Rng(11);
        for (int d : new int[] {1, 7, 8, 16, 33, 48, 100, 384}) {
            float[] q = Vectors.unit(rng, d);
            float[] all = new float[5 * d + 3];
            for (int i = 0; i < all.length; i++) all[i] = (float) rng.nextGaussian();
            for (int row = 0; row < 5; row++) {
                float[] copy = Arrays.copyOfRange(all, row * d, row * d + d);
                assertEquals(VectorDot.dot(q, copy), VectorDot.dot(q, all, row * d), 0f, "d " + d + " row " + row);
            }
        }
    }
}
