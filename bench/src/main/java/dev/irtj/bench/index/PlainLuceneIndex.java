package dev.irtj.bench.index;

import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexedImage;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.FilterCodec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.VectorScorer;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * The benchmark's own Lucene index, in plain Lucene calls, for the runs where irtj's
 * {@code LuceneIndex} cannot be used: on Lucene 10 / JDK 25, which the project does not build
 * against, and on Lucene 9.12 before {@code LuceneIndex} exists. It stores what the benchmark
 * needs (an id and the vector) and answers through the same {@code VectorIndex} contract, so the
 * harness measures both alike.
 *
 * <p>The source compiles unchanged against Lucene 9.12 and 10.x: it only uses calls that both
 * have (FilterCodec over the default codec, the Lucene99 HNSW formats, KnnFloatVectorQuery,
 * FloatVectorValues.scorer). Everything else of {@code VectorIndex} (metadata, stamps) is outside
 * what is measured and refused.
 */
final class PlainLuceneIndex implements IndexBench.Tunable {
    static final String ID = "id";
    static final String VECTOR = "vector";

    private final Directory dir;
    private final IndexWriter writer;
    private final int dims;
    private DirectoryReader reader;
    private IndexSearcher searcher;
    private volatile int efSearch = 10;
    private volatile boolean exact;

    PlainLuceneIndex(Path path, int dims, int m, int beamWidth, boolean int8) throws IOException {
        this.dims = dims;
        this.dir = FSDirectory.open(path);
        KnnVectorsFormat format = int8 ? new Lucene99HnswScalarQuantizedVectorsFormat(m, beamWidth) : new Lucene99HnswVectorsFormat(m, beamWidth);
        Codec base = Codec.getDefault();
        // Keeps the default codec's name, so a reader opens the index with the default codec; the
        // per-field vector format it records ("Lucene99HnswVectorsFormat") is found by name, and
        // M and the beam width matter only while writing.
        Codec codec = new FilterCodec(base.getName(), base) {
            @Override
            public KnnVectorsFormat knnVectorsFormat() {
                return new PerFieldKnnVectorsFormat() {
                    @Override
                    public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                        return format;
                    }
                };
            }
        };
        // A RAM buffer larger than the data keeps the whole build in one segment: one HNSW graph,
        // built on the writer's thread as documents arrive, as FAISS and hnswlib build one graph.
        IndexWriterConfig config = new IndexWriterConfig().setCodec(codec).setRAMBufferSizeMB(1900)
                .setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        this.writer = new IndexWriter(dir, config);
        refresh();
    }

    @Override
    public void efSearch(int ef) {
        this.efSearch = ef;
    }

    @Override
    public void exact(boolean on) {
        this.exact = on;
    }

    private synchronized void refresh() throws IOException {
        DirectoryReader next = reader == null ? DirectoryReader.open(writer) : DirectoryReader.openIfChanged(reader, writer);
        if (next != null) {
            if (reader != null) reader.close();
            reader = next;
            searcher = new IndexSearcher(reader);
        }
    }

    @Override
    public IndexInfo info() {
        return new IndexInfo("bench", "bench vectors", dims, reader.numDocs());
    }

    @Override
    public void upsert(Collection<IndexedImage> images) throws IOException {
        for (IndexedImage image : images) {
            Document doc = new Document();
            doc.add(new StringField(ID, image.id(), Field.Store.YES));
            doc.add(new KnnFloatVectorField(VECTOR, image.vector(), VectorSimilarityFunction.DOT_PRODUCT));
            writer.updateDocument(new Term(ID, image.id()), doc);
        }
    }

    @Override
    public void delete(Collection<String> ids) throws IOException {
        for (String id : ids) writer.deleteDocuments(new Term(ID, id));
    }

    @Override
    public void commit() throws IOException {
        writer.commit();
        refresh();
    }

    @Override
    public List<Hit> search(float[] query, int k) throws IOException {
        IndexSearcher s;
        synchronized (this) {
            s = searcher;
        }
        ScoreDoc[] docs = exact ? exactTop(s, query, k) : approximateTop(s, query, k);
        StoredFields stored = s.storedFields();
        List<Hit> hits = new ArrayList<>(docs.length);
        for (ScoreDoc d : docs) {
            String id = stored.document(d.doc).get(ID);
            // Lucene scores a dot product as (1 + dot) / 2; the contract reports the similarity itself.
            hits.add(new Hit(new IndexedImage(id, id, null, null, 0, 0, 0, 0, Map.of()), 2 * d.score - 1));
        }
        return hits;
    }

    /** HNSW: Lucene's k is the search's beam (efSearch); the best k of it are kept. */
    private ScoreDoc[] approximateTop(IndexSearcher s, float[] query, int k) throws IOException {
        TopDocs top = s.search(new KnnFloatVectorQuery(VECTOR, query, Math.max(k, efSearch)), k);
        return top.scoreDocs;
    }

    /** Every vector scored with Lucene's own similarity code (vectorized on JDK 21+ with Lucene 10). */
    private static ScoreDoc[] exactTop(IndexSearcher s, float[] query, int k) throws IOException {
        // Min-heap on score, ties: the larger doc is the worse one.
        PriorityQueue<ScoreDoc> heap = new PriorityQueue<>(k + 1, (a, b) -> a.score != b.score ? Float.compare(a.score, b.score)
                : Integer.compare(b.doc, a.doc));
        for (LeafReaderContext leaf : s.getIndexReader().leaves()) {
            FloatVectorValues values = leaf.reader().getFloatVectorValues(VECTOR);
            if (values == null) continue;
            VectorScorer scorer = values.scorer(query);
            DocIdSetIterator it = scorer.iterator();
            var live = leaf.reader().getLiveDocs();
            float worst = Float.NEGATIVE_INFINITY;
            for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
                if (live != null && !live.get(doc)) continue;
                float score = scorer.score();
                if (heap.size() == k && score <= worst) continue;
                heap.add(new ScoreDoc(leaf.docBase + doc, score));
                if (heap.size() > k) heap.poll();
                if (heap.size() == k) worst = heap.peek().score;
            }
        }
        ScoreDoc[] out = new ScoreDoc[heap.size()];
        for (int i = out.length - 1; i >= 0; i--) out[i] = heap.poll();
        return out;
    }

    @Override
    public Optional<IndexedImage> get(String id) {
        throw new UnsupportedOperationException("not needed by the benchmark");
    }

    @Override
    public Map<String, IndexedImage.Stamp> stamps() {
        throw new UnsupportedOperationException("not needed by the benchmark");
    }

    @Override
    public void close() throws IOException {
        try (dir; writer) {
            if (reader != null) reader.close();
        }
    }
}
