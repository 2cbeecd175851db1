package dev.irtj.index;

import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.hnsw.FlatVectorScorerUtil;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99FlatVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsReader;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.SegmentCommitInfo;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.TieredMergePolicy;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Lucene round trip of {@link IrtjHnswVectorsWriter}: segments it writes are read by a plain
 * {@link Lucene99HnswVectorsReader} (Lucene's scorer, not ours) with recall against exact k-NN,
 * by Lucene's query and by {@link HnswWalk}; {@code CheckIndex} passes; force-merges with
 * deletions and an index sort keep recall.
 */
class IrtjHnswVectorsWriterTest {
    private static final String FIELD = "v";
    private static final int D = 48;
    private static final int K = 10;
    private static final int EF = 100;
    private static final int QUERIES = 100;

    private static Codec codec() {
        KnnVectorsFormat format = new IrtjHnswVectorsFormat(16, 100);
        return new Lucene912Codec() {
            @Override
            public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                return format;
            }
        };
    }

    private static IndexWriterConfig config() {
        IndexWriterConfig c = new IndexWriterConfig().setCodec(codec()).setUseCompoundFile(false);
        TieredMergePolicy mp = new TieredMergePolicy();
        mp.setNoCFSRatio(0);
        return c.setMergePolicy(mp);
    }

    private static Document doc(int id, float[] v) {
        Document d = new Document();
        d.add(new KnnFloatVectorField(FIELD, v, VectorSimilarityFunction.DOT_PRODUCT));
        d.add(new StoredField("id", id));
        d.add(new StringField("key", Integer.toString(id), Field.Store.NO));
        // A sort key that reverses the order of arrival (for the index-sort case).
        d.add(new NumericDocValuesField("rank", -id));
        return d;
    }

    private static float[][] data(long seed, int n) {
        float[] all = HnswBuilderTest.clustered(seed, n, D);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(all, i * D, i * D + D);
        return out;
    }

    @Test
    void segmentsOfOddSizesReadByPlainLuceneAndByTheWalk(@TempDir Path dir) throws IOException {
        int[] sizes = {1, 2, 17, 1000};
        float[][] v = data(11, 1020 + QUERIES);
        try (Directory d = FSDirectory.open(dir); IndexWriter w = new IndexWriter(d, config().setMergePolicy(NoMergePolicy.INSTANCE))) {
            int id = 0;
            for (int size : sizes) {
                for (int i = 0; i < size; i++, id++) w.addDocument(doc(id, v[id]));
                w.commit();
            }
        }
        Set<Integer> none = Set.of();
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            assertEquals(sizes.length, r.leaves().size());
            for (LeafReaderContext leaf : r.leaves()) {
                int[] ids = ids(leaf.reader());
                for (int i = 0; i < ids.length; i++) assertEquals(ids[0] + i, ids[i], "one segment holds consecutive ids");
            }
            // Lucene's own query over all segments.
            assertRecall(v, 1020, none, q -> {
                TopDocs top = new IndexSearcher(r).search(new KnnFloatVectorQuery(FIELD, q, EF), EF);
                return topIds(r, top.scoreDocs);
            }, "KnnFloatVectorQuery");
            // The walk, segment by segment.
            assertRecall(v, 1020, none, q -> {
                long[] keys = new long[0];
                int[] idsOf = new int[0];
                for (LeafReaderContext leaf : r.leaves()) {
                    SegmentGraph g = SegmentGraph.of(leaf.reader(), FIELD);
                    assertNotNull(g, "the walk copies our format's segments");
                    int[] ids = ids(leaf.reader());
                    for (long key : HnswWalk.search(g, q, EF, null)) {
                        keys = Arrays.copyOf(keys, keys.length + 1);
                        idsOf = Arrays.copyOf(idsOf, idsOf.length + 1);
                        keys[keys.length - 1] = key;
                        idsOf[idsOf.length - 1] = ids[g.ordToDoc[HnswWalk.ord(key)]];
                    }
                }
                return bestIds(keys, idsOf);
            }, "HnswWalk");
        }
        // The plain Lucene99HnswVectorsReader with Lucene's scorer, on each segment's files.
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            SegmentInfos infos = SegmentInfos.readLatestCommit(d);
            int leafNo = 0;
            for (SegmentCommitInfo sci : infos) {
                LeafReader leaf = r.leaves().get(leafNo++).reader();
                int[] ids = ids(leaf);
                FieldInfos fis = sci.info.getCodec().fieldInfosFormat().read(d, sci.info, "", IOContext.DEFAULT);
                FieldInfo fi = fis.fieldInfo(FIELD);
                assertEquals(IrtjHnswVectorsFormat.NAME, fi.getAttribute(PerFieldKnnVectorsFormat.PER_FIELD_FORMAT_KEY));
                String suffix = IrtjHnswVectorsFormat.NAME + "_" + fi.getAttribute(PerFieldKnnVectorsFormat.PER_FIELD_SUFFIX_KEY);
                SegmentReadState state = new SegmentReadState(d, sci.info, fis, IOContext.DEFAULT, suffix);
                try (Lucene99HnswVectorsReader plain = new Lucene99HnswVectorsReader(state,
                        new Lucene99FlatVectorsFormat(FlatVectorScorerUtil.getLucene99FlatVectorsScorer()).fieldsReader(state))) {
                    plain.checkIntegrity();
                    assertEquals(ids.length, plain.getGraph(FIELD).size());
                    int lo = ids[0], hi = ids[ids.length - 1] + 1;
                    float[][] segment = Arrays.copyOfRange(v, lo, hi);
                    float[][] withQueries = Arrays.copyOf(segment, segment.length + QUERIES);
                    System.arraycopy(v, 1020, withQueries, segment.length, QUERIES);
                    assertRecall(withQueries, segment.length, none, q -> {
                        TopKnnCollector c = new TopKnnCollector(EF, Integer.MAX_VALUE);
                        plain.search(FIELD, q, c, null);
                        ScoreDoc[] sd = c.topDocs().scoreDocs; // topDocs() empties the collector: called once
                        int[] out = new int[Math.min(K, sd.length)];
                        for (int i = 0; i < out.length; i++) out[i] = ids[sd[i].doc] - lo;
                        return out;
                    }, "Lucene99HnswVectorsReader, segment of " + ids.length);
                }
            }
        }
        CleanIndex.assertClean(dir);
    }

    @Test
    void forceMergeWithDeletionsAndAnIndexSortKeepsRecall(@TempDir Path dir) throws IOException {
        int n = 3000;
        float[][] v = data(12, n + QUERIES);
        Set<Integer> deleted = new HashSet<>();
        for (boolean sorted : new boolean[] {false, true}) {
            Path p = dir.resolve(sorted ? "sorted" : "unsorted");
            IndexWriterConfig c = config().setMaxBufferedDocs(700);
            if (sorted) c.setIndexSort(new Sort(new SortField("rank", SortField.Type.LONG)));
            try (Directory d = FSDirectory.open(p); IndexWriter w = new IndexWriter(d, c)) {
                for (int i = 0; i < n; i++) w.addDocument(doc(i, v[i]));
                w.commit();
                for (int i = 0; i < n; i += 7) {
                    w.deleteDocuments(new Term("key", Integer.toString(i)));
                    deleted.add(i);
                }
                w.commit();
                try (DirectoryReader r = DirectoryReader.open(d)) {
                    assertTrue(r.leaves().size() > 1, "several segments before the merge");
                    assertRecall(v, n, deleted, q -> search(r, q), "before the merge, sorted " + sorted);
                }
                w.forceMerge(1);
                w.commit();
                try (DirectoryReader r = DirectoryReader.open(d)) {
                    assertEquals(1, r.leaves().size());
                    assertEquals(n - deleted.size(), r.numDocs());
                    assertEquals(0, r.numDeletedDocs(), "the merge dropped the deleted vectors");
                    assertRecall(v, n, deleted, q -> search(r, q), "after the merge, sorted " + sorted);
                    LeafReader leaf = r.leaves().get(0).reader();
                    int[] ids = ids(leaf);
                    SegmentGraph g = SegmentGraph.of(leaf, FIELD);
                    assertNotNull(g);
                    assertRecall(v, n, deleted, q -> {
                        long[] keys = HnswWalk.search(g, q, EF, null);
                        int[] idsOf = new int[keys.length];
                        for (int i = 0; i < keys.length; i++) idsOf[i] = ids[g.ordToDoc[HnswWalk.ord(keys[i])]];
                        return bestIds(keys, idsOf);
                    }, "HnswWalk after the merge, sorted " + sorted);
                    if (sorted) assertEquals(n - 1, ids[0], "the index sort put the last id first");
                }
            }
            CleanIndex.assertClean(p);
        }
    }

    @Test
    void otherSimilaritiesAreRefusedWithOneLine(@TempDir Path dir) throws IOException {
        try (Directory d = FSDirectory.open(dir); IndexWriter w = new IndexWriter(d, config())) {
            Document doc = new Document();
            doc.add(new KnnFloatVectorField(FIELD, new float[] {1, 0}, VectorSimilarityFunction.EUCLIDEAN));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.addDocument(doc));
            assertTrue(e.getMessage().contains("DOT_PRODUCT only"), e.getMessage());
        }
    }

    private static int[] search(DirectoryReader r, float[] q) throws IOException {
        TopDocs top = new IndexSearcher(r).search(new KnnFloatVectorQuery(FIELD, q, EF), EF);
        return topIds(r, top.scoreDocs);
    }

    private interface Searcher {
        int[] top(float[] q) throws IOException;
    }

    /** Recall@10 of search against exact k-NN over v[0 .. n) minus deleted, for the queries v[n .. n + QUERIES). */
    private static void assertRecall(float[][] v, int n, Set<Integer> deleted, Searcher search, String what) throws IOException {
        int hits = 0, total = 0;
        for (int qi = 0; qi < QUERIES; qi++) {
            float[] q = v[n + qi];
            Integer[] order = new Integer[n];
            float[] s = new float[n];
            int live = 0;
            for (int i = 0; i < n; i++) {
                if (deleted.contains(i)) continue;
                order[live++] = i;
                s[i] = VectorDot.scalar(q, v[i]);
            }
            Integer[] alive = Arrays.copyOf(order, live);
            Arrays.sort(alive, (a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(a, b));
            Set<Integer> found = new HashSet<>();
            for (int x : search.top(q)) found.add(x);
            int k = Math.min(K, live);
            for (int i = 0; i < k; i++) if (found.contains(alive[i])) hits++;
            total += k;
        }
        double recall = (double) hits / total;
        assertTrue(recall >= 0.98, what + ": recall@10 " + recall + " at ef " + EF);
    }

    private static int[] ids(LeafReader leaf) throws IOException {
        int[] ids = new int[leaf.maxDoc()];
        for (int doc = 0; doc < ids.length; doc++) ids[doc] = leaf.storedFields().document(doc).getField("id").numericValue().intValue();
        return ids;
    }

    private static int[] topIds(DirectoryReader r, ScoreDoc[] docs) throws IOException {
        int[] out = new int[Math.min(K, docs.length)];
        for (int i = 0; i < out.length; i++) out[i] = r.storedFields().document(docs[i].doc).getField("id").numericValue().intValue();
        return out;
    }

    /** The K best of keys (HnswWalk's (score, ord) keys), as the ids beside them. */
    private static int[] bestIds(long[] keys, int[] ids) {
        Integer[] order = new Integer[keys.length];
        for (int i = 0; i < keys.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(HnswWalk.score(keys[b]), HnswWalk.score(keys[a])));
        int[] out = new int[Math.min(K, keys.length)];
        for (int i = 0; i < out.length; i++) out[i] = ids[order[i]];
        return out;
    }
}
