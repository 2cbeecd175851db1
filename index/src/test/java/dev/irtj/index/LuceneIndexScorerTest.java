package dev.irtj.index;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vectors format with irtj's scorer: registered by SPI (so a plain Lucene reader with
 * irtj-index on the class path opens the index), written for float vectors, not for int8, and
 * mixed with segments of Lucene's own format in one index.
 */
class LuceneIndexScorerTest {
    private static final LuceneIndex.Identity MODEL_32 = new LuceneIndex.Identity("fp-32", "model 32", null, 32);
    private static final String FORMAT_ATTRIBUTE = "PerFieldKnnVectorsFormat.format";

    @Test
    void theFormatIsFoundByItsSpiName() {
        assertInstanceOf(IrtjHnswVectorsFormat.class, KnnVectorsFormat.forName(IrtjHnswVectorsFormat.NAME));
    }

    @Test
    void floatIndexesUseOurFormatAndInt8KeepsLucenes(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(3, 300, 32);
        for (LuceneIndex.Quantization q : LuceneIndex.Quantization.values()) {
            Path d = dir.resolve(q.name());
            try (LuceneIndex index = LuceneIndex.open(d, MODEL_32, LuceneIndex.Options.defaults().withQuantization(q))) {
                index.upsert(Vectors.images(data));
                index.commit();
                // Exact scores come back whatever scored the graph.
                List<VectorIndex.Hit> hits = index.search(data.get(7), 3);
                assertEquals(Vectors.id(7), hits.get(0).image().id());
                assertEquals(1f, hits.get(0).score(), 1e-5f);
            }
            String expected = q == LuceneIndex.Quantization.INT8 ? new Lucene99HnswScalarQuantizedVectorsFormat().getName()
                    : IrtjHnswVectorsFormat.NAME;
            assertEquals(Set.of(expected), formats(d));
        }
    }

    @Test
    void aPlainLuceneReaderOpensTheIndexThroughSpi(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(4, 500, 32);
        try (LuceneIndex index = LuceneIndex.open(dir, MODEL_32, LuceneIndex.Options.defaults())) {
            index.upsert(Vectors.images(data));
            index.commit();
        }
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            TopDocs top = new IndexSearcher(r).search(new KnnFloatVectorQuery(LuceneIndex.F_VECTOR, data.get(11), 5), 5);
            assertEquals(5, top.scoreDocs.length);
            // Lucene's DOT_PRODUCT score, (1 + dot) / 2, of the vector with itself.
            assertEquals(1f, top.scoreDocs[0].score, 1e-5f);
        }
    }

    /**
     * A folder with segments of Lucene's Lucene99HnswVectorsFormat (as irtj wrote before this
     * format) stays readable and writable; new segments get our format, and a merge rewrites the
     * old ones in it.
     */
    @Test
    void oldFormatSegmentsStayReadableAndMergeIntoOurs(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(5, 400, 32);
        List<IndexedImage> images = Vectors.images(data);
        try (LuceneIndex index = LuceneIndex.open(dir, MODEL_32, LuceneIndex.Options.defaults())) {
            index.upsert(images.subList(0, 200));
            index.commit();
        }
        // The old writer: Lucene's default codec, whose per-field vectors format is Lucene99HnswVectorsFormat.
        try (Directory d = FSDirectory.open(dir);
             IndexWriter w = new IndexWriter(d, new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.APPEND))) {
            w.setLiveCommitData(SegmentInfos.readLatestCommit(d).getUserData().entrySet());
            for (IndexedImage img : images.subList(200, 400)) w.addDocument(LuceneIndex.document(img));
            w.commit();
        }
        assertEquals(Set.of(IrtjHnswVectorsFormat.NAME, new Lucene99HnswVectorsFormat().getName()), formats(dir));
        try (LuceneIndex index = LuceneIndex.open(dir, MODEL_32, LuceneIndex.Options.defaults())) {
            for (int i : new int[] {3, 250, 399}) assertEquals(Vectors.id(i), index.search(data.get(i), 1).get(0).image().id());
            index.merge(1);
            index.commit();
            assertEquals(400, index.info().count());
            assertEquals(Vectors.id(250), index.search(data.get(250), 1).get(0).image().id());
        }
        assertEquals(Set.of(IrtjHnswVectorsFormat.NAME), formats(dir));
    }

    private static Set<String> formats(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            List<LeafReaderContext> leaves = new ArrayList<>(r.leaves());
            assertTrue(!leaves.isEmpty());
            for (LeafReaderContext leaf : leaves) out.add(leaf.reader().getFieldInfos().fieldInfo(LuceneIndex.F_VECTOR).getAttribute(FORMAT_ATTRIBUTE));
        }
        return out;
    }
}
