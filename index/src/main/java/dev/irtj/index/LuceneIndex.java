package dev.irtj.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.eval.Knn;
import dev.irtj.retrieval.ImageDescriber;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.SlowCodecReaderWrapper;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnCollector;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.search.knn.KnnCollectorManager;
import org.apache.lucene.search.knn.TopKnnCollectorManager;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded index: one Lucene index folder, one document per image with its descriptor in a
 * {@link KnnFloatVectorField} (HNSW graph, {@link VectorSimilarityFunction#DOT_PRODUCT} on
 * L2-normalized vectors, so the score is the cosine similarity).
 *
 * <p>Open it {@link #open writable} (one writer per folder, guarded by Lucene's
 * {@code write.lock}; a second writer is refused with one line) or {@link #openReadOnly
 * read-only} (any number of processes, e.g. {@code irt serve} while {@code irt index} adds
 * images). Every search first refreshes the reader if a newer commit (or, in the writer, newer
 * uncommitted writes) exists, so commits of another process become visible without reopening.
 *
 * <p>The commit user data records the describer (fingerprint, description, source JSON, dims)
 * and the {@link Options}; opening the folder for another describer is refused
 * ({@link IndexMismatchException}) before anything is written.
 *
 * <p>Scores are exact dot products of the stored float vectors with the query: HNSW (and int8
 * quantization) only choose the candidates, which are then re-scored with the raw vectors and
 * ordered by score, ties by id. Float-HNSW segments are searched by irtj's own
 * {@link HnswWalk} over a heap copy of each segment's graph and vectors ({@link SegmentGraph},
 * made when a search first meets the segment): Lucene's algorithm and, on one segment, its very
 * candidates, at a fraction of its cost; int8 segments, those of other formats, and every search
 * under {@code -Dirtj.index.walk=false} use Lucene's graph search. In
 * {@linkplain Options#exact() exact} mode the search is
 * brute force over all vectors, loaded once per reader generation into one matrix ordered by
 * id ({@link ExactScan}: the results of {@link Knn#search}, bit for bit).
 */
public final class LuceneIndex implements VectorIndex {
    static final String F_ID = "id";
    static final String F_PATH = "path";
    static final String F_LABEL = "label";
    static final String F_BYTES = "bytes";
    static final String F_MODIFIED = "modified";
    static final String F_WIDTH = "width";
    static final String F_HEIGHT = "height";
    static final String F_METADATA = "metadata";
    static final String F_VECTOR = "vector";
    /** {@link HitSummary}: a hit's image in one binary doc value (absent in segments written before it). */
    static final String F_SUMMARY = "summary";

    static final String K_FORMAT = "irtj.index.format";
    static final String K_FINGERPRINT = "irtj.fingerprint";
    static final String K_DESCRIBER = "irtj.describer";
    static final String K_SOURCE = "irtj.source";
    static final String K_DIMS = "irtj.dims";
    static final String K_M = "irtj.hnsw.m";
    static final String K_BEAM = "irtj.hnsw.beamWidth";
    static final String K_QUANTIZATION = "irtj.quantization";
    static final String K_EXACT = "irtj.exact";
    static final String K_EF = "irtj.efSearch";
    private static final String FORMAT = "1";

    /** How far from 1 the norm of a stored vector may be (descriptors are L2-normalized in F32). */
    static final double NORM_TOLERANCE = 1e-3;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Whether HNSW searches walk irtj's copy of each segment's graph ({@link HnswWalk}) rather
     * than run Lucene's graph search; {@code -Dirtj.index.walk=false} turns it off (the two give
     * the same candidates on one segment; the benchmark compares their speed).
     */
    static final boolean WALK_DEFAULT = Boolean.parseBoolean(System.getProperty("irtj.index.walk", "true"));

    /**
     * Whether the writer keeps upserted images of the current layout pending and writes them as
     * one segment in one piece ({@link BatchReader}, {@code IndexWriter.addIndexes}) at the next
     * commit, search, merge or close, rather than handing each to Lucene's per-document indexing
     * chain; {@code -Dirtj.index.batch=false} turns it off (the two write the same documents;
     * the benchmark compares their cost).
     */
    static final boolean BATCH_DEFAULT = Boolean.parseBoolean(System.getProperty("irtj.index.batch", "true"));

    /** Pending images are written once their vectors and summaries reach this (the writer's RAM buffer). */
    static final long PENDING_BYTES = 64L << 20;

    /** What made the descriptors of an index: {@link ImageDescriber}'s identity, as recorded. */
    public record Identity(String fingerprint, String description, String source, int dims) {
        public Identity {
            Objects.requireNonNull(fingerprint, "fingerprint");
            Objects.requireNonNull(description, "description");
            source = source == null ? "{}" : source;
            if (dims < 1) throw new IllegalArgumentException("dims must be >= 1, got " + dims);
        }

        public static Identity of(ImageDescriber describer) {
            return new Identity(describer.fingerprint(), describer.describe(), describer.source(), describer.dims());
        }

        String line() {
            return description + " (fingerprint " + fingerprint + ", " + dims + " dims)";
        }
    }

    /** Lucene's scalar quantization of the HNSW vectors (the raw floats are kept for re-scoring). */
    public enum Quantization {
        NONE, INT8;

        public static Quantization parse(String s) {
            for (Quantization q : values()) if (q.name().equalsIgnoreCase(s)) return q;
            throw new IllegalArgumentException("quantization must be none or int8, got '" + s + "'");
        }
    }

    /**
     * Index settings, recorded in the commit data.
     *
     * @param hnswM HNSW neighbours per node (Lucene's maxConn, 2..512)
     * @param beamWidth HNSW candidates while building the graph (1..3200)
     * @param quantization NONE (float vectors in the graph) or INT8 (Lucene99HnswScalarQuantizedVectorsFormat)
     * @param exact search by brute force over all vectors instead of the graph (small catalogues)
     * @param efSearch candidates gathered from the graph per search, at least k (more: better recall, slower)
     */
    public record Options(int hnswM, int beamWidth, Quantization quantization, boolean exact, int efSearch) {
        public static final int DEFAULT_M = 16;
        public static final int DEFAULT_BEAM_WIDTH = 100;
        public static final int DEFAULT_EF_SEARCH = 100;
        public static final int MAX_M = Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN;
        public static final int MAX_BEAM_WIDTH = Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH;

        public Options {
            Objects.requireNonNull(quantization, "quantization");
            if (hnswM < 2 || hnswM > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
                throw new IllegalArgumentException("HNSW M must be in 2.." + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN + ", got " + hnswM);
            }
            if (beamWidth < 1 || beamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
                throw new IllegalArgumentException("HNSW beam width must be in 1.." + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH
                        + ", got " + beamWidth);
            }
            if (efSearch < 1) throw new IllegalArgumentException("efSearch must be >= 1, got " + efSearch);
        }

        public static Options defaults() {
            return new Options(DEFAULT_M, DEFAULT_BEAM_WIDTH, Quantization.NONE, false, DEFAULT_EF_SEARCH);
        }

        public Options withHnswM(int m) {
            return new Options(m, beamWidth, quantization, exact, efSearch);
        }

        public Options withBeamWidth(int b) {
            return new Options(hnswM, b, quantization, exact, efSearch);
        }

        public Options withQuantization(Quantization q) {
            return new Options(hnswM, beamWidth, q, exact, efSearch);
        }

        public Options withExact(boolean e) {
            return new Options(hnswM, beamWidth, quantization, e, efSearch);
        }

        public Options withEfSearch(int ef) {
            return new Options(hnswM, beamWidth, quantization, exact, ef);
        }

        void record(Map<String, String> data) {
            data.put(K_M, Integer.toString(hnswM));
            data.put(K_BEAM, Integer.toString(beamWidth));
            data.put(K_QUANTIZATION, quantization.name().toLowerCase(Locale.ROOT));
            data.put(K_EXACT, Boolean.toString(exact));
            data.put(K_EF, Integer.toString(efSearch));
        }

        static Options from(Map<String, String> data, Path dir) throws IndexMismatchException {
            try {
                return new Options(Integer.parseInt(data.get(K_M)), Integer.parseInt(data.get(K_BEAM)),
                        Quantization.parse(data.get(K_QUANTIZATION)), Boolean.parseBoolean(data.get(K_EXACT)),
                        Integer.parseInt(data.get(K_EF)));
            } catch (RuntimeException e) {
                throw new IndexMismatchException(dir + ": the recorded index options are unreadable (" + e.getMessage() + ")");
            }
        }
    }

    private final Path dir;
    private final Directory directory;
    private final IndexWriter writer;         // null when read-only
    private final SearcherManager manager;
    private volatile Identity identity;
    private volatile Options options;
    private volatile Object commitReader;     // read-only: the reader whose commit data identity/options hold
    private volatile long commitGeneration = -1;   // read-only: that reader's commit generation
    private final Object matrixLock = new Object();
    /** HNSW search: per segment core, its graph copy for {@link HnswWalk}, or empty where Lucene searches it. */
    private final Map<IndexReader.CacheKey, Optional<SegmentGraph>> segmentGraphs = new ConcurrentHashMap<>();
    private volatile boolean walk = WALK_DEFAULT;
    private volatile Matrix matrix;           // exact mode: the vectors of one reader generation
    /**
     * Writer: whether new documents also carry the id's sorted doc values, as every document of
     * the first two layouts did. Lucene holds each field to one schema per index, so an index
     * whose id field has them keeps writing them; a new index (or one with no documents of an
     * older layout left) has none ({@link #document}).
     */
    private boolean idDocValues;
    private volatile boolean batch = BATCH_DEFAULT;
    /**
     * Writer, batch mode: images upserted since the last write of the batch, by id in upsert
     * order (an id upserted again moves to the end, as its document would), with their encoded
     * summaries. Guarded by itself; every read of the index writes them first.
     */
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    private long pendingBytes;

    /** A pending image: its id, its vector (a copy: the caller may reuse its array, as Lucene copies it at once) and its summary. */
    private record Pending(String id, float[] vector, BytesRef summary) {
    }

    private LuceneIndex(Path dir, Directory directory, IndexWriter writer, SearcherManager manager, Identity identity, Options options) {
        this.dir = dir;
        this.directory = directory;
        this.writer = writer;
        this.manager = manager;
        this.identity = identity;
        this.options = options;
    }

    /**
     * Opens (creating it when missing) the index in {@code dir} for writing descriptors of
     * {@code describer}. A new index is committed at once with the describer and the options,
     * so a reader can open it before the first image arrives; an existing one must have been
     * built by an equal describer (fingerprint and dims), and its recorded options are replaced
     * by {@code options} at the next commit (segments already written keep their graph settings
     * until merged).
     *
     * @throws IndexMismatchException the folder holds another describer's descriptors (one line naming both)
     * @throws IOException the folder is locked by another writer, or cannot be written
     */
    public static LuceneIndex open(Path dir, Identity describer, Options options) throws IOException {
        Objects.requireNonNull(describer, "describer");
        Objects.requireNonNull(options, "options");
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) throw new IOException(abs + " is not a directory (expected an index folder)");
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new IOException("cannot create the index folder " + abs + " (" + e + ")", e);
        }
        if (!Files.isWritable(abs)) throw new AccessDeniedException(abs.toString(), null, "the index folder is not writable");
        Directory directory = FSDirectory.open(abs);
        try {
            IndexWriterConfig config = new IndexWriterConfig()
                    .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
                    .setCodec(codec(options))
                    .setRAMBufferSizeMB(64)
                    .setCommitOnClose(true);
            IndexWriter writer;
            try {
                writer = new IndexWriter(directory, config);
            } catch (LockObtainFailedException e) {
                throw new IOException(abs + " is being written by another process (its write.lock is held); "
                        + "one writer per index folder; searches can open it read-only meanwhile", e);
            }
            try {
                // Checked under the write lock: no other writer can create or change the index now,
                // and a refused open leaves it untouched (the writer is rolled back unwritten).
                boolean exists = DirectoryReader.indexExists(directory);
                if (exists) {
                    Identity recorded = identityOf(SegmentInfos.readLatestCommit(directory).getUserData(), abs);
                    if (!recorded.fingerprint().equals(describer.fingerprint()) || recorded.dims() != describer.dims()) {
                        throw new IndexMismatchException(mismatch(abs, recorded, describer));
                    }
                }
                writer.setLiveCommitData(commitData(describer, options).entrySet());
                if (!exists) writer.commit();   // readers can open the folder (and see the describer) at once
                SearcherManager manager = new SearcherManager(writer, true, false, null);
                LuceneIndex index = new LuceneIndex(abs, directory, writer, manager, describer, options);
                try {
                    index.idDocValues = index.idHasDocValues();
                } catch (IOException | RuntimeException e) {
                    manager.close();
                    throw e;
                }
                return index;
            } catch (IOException | RuntimeException e) {
                writer.rollback();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            directory.close();
            throw e;
        }
    }

    /**
     * Opens the index in {@code dir} for searching only (no lock taken: a writer in this or
     * another process may be adding images; its commits become visible at the next search).
     * Searches use the recorded options (exact or HNSW, efSearch).
     *
     * @throws IOException there is no index in {@code dir}
     */
    public static LuceneIndex openReadOnly(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) throw new IOException("no index at " + abs + " (not a folder; irt index creates one)");
        Directory directory = FSDirectory.open(abs);
        try {
            if (!DirectoryReader.indexExists(directory)) {
                throw new IOException("no index at " + abs + " (no Lucene commit there; irt index creates one)");
            }
            SearcherManager manager = new SearcherManager(directory, null);
            try {
                LuceneIndex index = new LuceneIndex(abs, directory, null, manager, null, null);
                index.readCommitData();
                return index;
            } catch (IOException | RuntimeException e) {
                manager.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            directory.close();
            throw e;
        }
    }

    /** The options recorded in the latest commit of {@code dir}, if an irtj index is there. */
    public static Optional<Options> recordedOptions(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) return Optional.empty();
        try (Directory d = FSDirectory.open(abs)) {
            if (!DirectoryReader.indexExists(d)) return Optional.empty();
            Map<String, String> data = SegmentInfos.readLatestCommit(d).getUserData();
            identityOf(data, abs);
            return Optional.of(Options.from(data, abs));
        }
    }

    /** The describer recorded in the latest commit of {@code dir}, if an irtj index is there. */
    public static Optional<Identity> recordedIdentity(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) return Optional.empty();
        try (Directory d = FSDirectory.open(abs)) {
            if (!DirectoryReader.indexExists(d)) return Optional.empty();
            return Optional.of(identityOf(SegmentInfos.readLatestCommit(d).getUserData(), abs));
        }
    }

    /**
     * The codec: Lucene's default, with the vector field's format carrying our graph settings.
     * An anonymous subclass keeps the codec name "Lucene912", and the per-field format writes
     * its own SPI name into each segment: {@link IrtjHnswVectorsFormat} (Lucene99's HNSW files,
     * the graph built by irtj's {@link HnswBuilder} at flush and merge, scored with our Vector API
     * dot product; readable by any Lucene 9.12 with irtj-index on the class path, which registers
     * it by SPI) or, for int8, Lucene's
     * Lucene99HnswScalarQuantizedVectorsFormat (Lucene's own quantized scorer). M and the beam
     * width matter only when writing.
     */
    private static Lucene912Codec codec(Options options) {
        KnnVectorsFormat format = options.quantization() == Quantization.INT8
                ? new Lucene99HnswScalarQuantizedVectorsFormat(options.hnswM(), options.beamWidth())
                : new IrtjHnswVectorsFormat(options.hnswM(), options.beamWidth());
        return new Lucene912Codec() {
            @Override
            public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                return format;
            }
        };
    }

    private static Map<String, String> commitData(Identity describer, Options options) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put(K_FORMAT, FORMAT);
        data.put(K_FINGERPRINT, describer.fingerprint());
        data.put(K_DESCRIBER, describer.description());
        data.put(K_SOURCE, describer.source());
        data.put(K_DIMS, Integer.toString(describer.dims()));
        options.record(data);
        return data;
    }

    private static Identity identityOf(Map<String, String> data, Path dir) throws IndexMismatchException {
        if (!data.containsKey(K_FINGERPRINT) || !data.containsKey(K_DIMS)) {
            throw new IndexMismatchException(dir + " holds a Lucene index that irtj did not write (no describer fingerprint in its commit data)");
        }
        try {
            return new Identity(data.get(K_FINGERPRINT), data.getOrDefault(K_DESCRIBER, "?"), data.get(K_SOURCE),
                    Integer.parseInt(data.get(K_DIMS)));
        } catch (RuntimeException e) {
            throw new IndexMismatchException(dir + ": the recorded describer is unreadable (" + e.getMessage() + ")");
        }
    }

    private static String mismatch(Path dir, Identity recorded, Identity offered) {
        return "index " + dir + " holds descriptors of " + recorded.line() + ", not of " + offered.line()
                + "; descriptors of different models are not comparable (use another index folder, or the index's model)";
    }

    /** Whether the index's id field has sorted doc values (documents of the first two layouts). */
    private boolean idHasDocValues() throws IOException {
        IndexSearcher s = manager.acquire();
        try {
            FieldInfo id = FieldInfos.getMergedFieldInfos(s.getIndexReader()).fieldInfo(F_ID);
            return id != null && id.getDocValuesType() == DocValuesType.SORTED;
        } finally {
            manager.release(s);
        }
    }

    /** Read-only: identity and options from the commit the searcher's reader sees. */
    private void readCommitData(IndexSearcher s) throws IOException {
        Map<String, String> data = ((DirectoryReader) s.getIndexReader()).getIndexCommit().getUserData();
        identity = identityOf(data, dir);
        options = Options.from(data, dir);
        commitGeneration = ((DirectoryReader) s.getIndexReader()).getIndexCommit().getGeneration();
        commitReader = s.getIndexReader();
    }

    private void readCommitData() throws IOException {
        IndexSearcher s = manager.acquire();
        try {
            readCommitData(s);
        } finally {
            manager.release(s);
        }
    }

    /**
     * Picks up newer commits (read-only; a cheap look at the latest segments file when nothing
     * changed) or writes (writer) before a search, and, read-only, the commit data of a new
     * reader generation.
     */
    private IndexSearcher acquire() throws IOException {
        // Read-only, a new commit always comes with a new segments_N file: one directory listing
        // says whether to refresh, where maybeRefresh would read and checksum the latest
        // segments file at every search.
        if (writer != null) writePending();
        if (writer != null || SegmentInfos.getLastCommitGeneration(directory.listAll()) != commitGeneration) manager.maybeRefresh();
        IndexSearcher s = manager.acquire();
        if (writer == null && s.getIndexReader() != commitReader) {
            synchronized (this) {
                if (s.getIndexReader() != commitReader) readCommitData(s);
            }
        }
        return s;
    }

    public Path directory() {
        return dir;
    }

    /**
     * Tests: upserts kept pending and written as one segment (true, the default unless
     * -Dirtj.index.batch=false) or handed to Lucene document by document. Pending images are
     * written first.
     */
    void batch(boolean on) throws IOException {
        writePending();
        batch = on;
    }

    /** Tests: HNSW searches by {@link HnswWalk} (true, the default unless -Dirtj.index.walk=false) or by Lucene. */
    void walk(boolean on) {
        walk = on;
    }

    public boolean readOnly() {
        return writer == null;
    }

    /** The describer of the index (as of the latest commit seen, when read-only). */
    public Identity identity() {
        return identity;
    }

    /** The index's options (as recorded, when read-only). */
    public Options options() {
        return options;
    }

    @Override
    public String describerSource() {
        return identity.source();
    }

    @Override
    public IndexInfo info() throws IOException {
        IndexSearcher s = acquire();
        try {
            Identity id = identity;
            return new IndexInfo(id.fingerprint(), id.description(), id.dims(), s.getIndexReader().numDocs());
        } finally {
            manager.release(s);
        }
    }

    @Override
    public void upsert(Collection<IndexedImage> images) throws IOException {
        IndexWriter w = writable();
        int dims = identity.dims();
        // Check every image before writing any, so a bad one leaves the batch unwritten.
        for (IndexedImage img : images) check(img, dims);
        if (!batch || idDocValues || options.quantization() != Quantization.NONE) {
            // Indexes holding the first two layouts keep the id's sorted doc values, which the
            // batch does not write. Int8 indexes too: their graph is Lucene's, built as documents
            // arrive, and Lucene's quantizer at a merge (the batch's way in) does not give the
            // flush's graph, so the two writes would not search alike.
            for (IndexedImage img : images) w.updateDocument(new Term(F_ID, img.id()), document(img, idDocValues));
            return;
        }
        List<Pending> encoded = new ArrayList<>(images.size());
        for (IndexedImage img : images) encoded.add(new Pending(img.id(), img.vector().clone(), HitSummary.encode(img)));
        boolean full;
        synchronized (pending) {
            for (Pending p : encoded) {
                unpend(p.id());
                pending.put(p.id(), p);
                pendingBytes += bytes(p);
            }
            full = pendingBytes >= PENDING_BYTES;
        }
        if (full) writePending();
    }

    /** Drops id's pending image, if any, from the batch and its byte count; the caller holds {@code pending}'s lock. */
    private void unpend(String id) {
        Pending old = pending.remove(id);
        if (old != null) pendingBytes -= bytes(old);
    }

    /** About what a pending image holds in memory. */
    private static long bytes(Pending p) {
        return 4L * p.vector().length + p.summary().length + 2L * p.id().length() + 96;
    }

    /**
     * Writes the pending images (batch mode) as one new segment: the older documents of their
     * ids deleted, then the batch added by {@code addIndexes} (which first applies the deletes
     * buffered before it, so they never reach the batch's own documents). Uncommitted, as the
     * documents of {@code updateDocument} are until the next commit.
     */
    private void writePending() throws IOException {
        synchronized (pending) {
            if (pending.isEmpty()) return;
            int n = pending.size();
            List<String> ids = new ArrayList<>(n);
            List<BytesRef> summaries = new ArrayList<>(n);
            List<float[]> vectors = new ArrayList<>(n);
            for (Pending p : pending.values()) {
                ids.add(p.id());
                summaries.add(p.summary());
                vectors.add(p.vector());
            }
            IndexWriter w = writable();
            // An index holding no document at all (a first build) has none of these ids to
            // replace: buffering, freezing and applying 9000 delete terms was ~0.07 of a fresh
            // build's 0.8 CPU s, most of it the JIT compiling Lucene's delete code (bench/README.md,
            // "A first build without delete terms"). maxDoc counts buffered and deleted documents
            // too, so any document that could hold one of the ids keeps the delete.
            if (w.getDocStats().maxDoc > 0) w.deleteDocuments(idTerms(ids));
            w.addIndexes(SlowCodecReaderWrapper.wrap(new BatchReader(ids, summaries, vectors, identity.dims())));
            pending.clear();
            pendingBytes = 0;
        }
    }

    private void check(IndexedImage img, int dims) {
        if (img.id().isEmpty()) throw new IllegalArgumentException("an image id must not be empty (path " + img.path() + ")");
        float[] v = img.vector();
        if (v == null) throw new IllegalArgumentException("image " + img.id() + " has no vector");
        if (v.length != dims) {
            throw new IllegalArgumentException("image " + img.id() + " has a " + v.length + "-dim vector; the index holds "
                    + dims + "-dim descriptors of " + identity.line());
        }
        double sq = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) throw new IllegalArgumentException("image " + img.id() + " has a non-finite vector component");
            sq += (double) x * x;
        }
        if (Math.abs(Math.sqrt(sq) - 1) > NORM_TOLERANCE) {
            throw new IllegalArgumentException("image " + img.id() + " has a vector of norm " + Math.sqrt(sq)
                    + "; descriptors must be L2-normalized (dot product = cosine)");
        }
    }

    /**
     * A document of the current layout: the id as an indexed term (what replaces and deletes
     * find; not stored), everything else a hit reports in one {@link HitSummary} doc value, and
     * the vector. The two earlier layouts also stored each field and kept it in a doc value of
     * its own (the first without a summary); their segments stay readable ({@link FieldReader},
     * {@link IdReader}), and an index holding them gets the id's sorted doc values in new
     * documents too ({@code idDocValues}: Lucene refuses a field whose doc values change).
     * Why no more: nothing read the stored fields, and the per-field doc values only for
     * documents without a summary, while writing them was a measured part of an index build's
     * CPU time in a fresh JVM (~0.25 s of 1.7 for 9000 documents, the id's sorted doc values
     * 0.15 of it: each kind of field is more indexing and flush code to warm up; bench/README.md,
     * branch coldbuild).
     */
    static Document document(IndexedImage img, boolean idDocValues) throws JsonProcessingException {
        Document doc = new Document();
        doc.add(new StringField(F_ID, img.id(), Field.Store.NO));
        if (idDocValues) doc.add(new SortedDocValuesField(F_ID, new BytesRef(img.id())));
        doc.add(new BinaryDocValuesField(F_SUMMARY, HitSummary.encode(img)));
        doc.add(new KnnFloatVectorField(F_VECTOR, img.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        return doc;
    }

    // Package-private: LuceneIndexScorerTest writes old-format segments of the same documents.
    static Document document(IndexedImage img) throws JsonProcessingException {
        return document(img, false);
    }

    @Override
    public void delete(Collection<String> ids) throws IOException {
        IndexWriter w = writable();
        Term[] terms = idTerms(ids);
        synchronized (pending) {
            for (String id : ids) unpend(id);
        }
        if (terms.length > 0) w.deleteDocuments(terms);
    }

    /** The id terms that find (and delete) the documents of these ids. */
    private static Term[] idTerms(Collection<String> ids) {
        return ids.stream().map(id -> new Term(F_ID, id)).toArray(Term[]::new);
    }

    @Override
    public void commit() throws IOException {
        IndexWriter w = writable();
        writePending();
        w.setLiveCommitData(commitData(identity, options).entrySet());
        w.commit();
        manager.maybeRefreshBlocking();
    }

    /** Segments of the index as the latest reader sees them: each has its own HNSW graph, searched in turn. */
    public int segments() throws IOException {
        IndexSearcher s = acquire();
        try {
            return s.getIndexReader().leaves().size();
        } finally {
            manager.release(s);
        }
    }

    /**
     * Merges the index into at most {@code maxSegments} segments and commits, when it has more.
     * A search visits every segment's graph with the full efSearch, so its cost grows about
     * linearly with the segment count (the bench's 100k index in 4 segments: ~4x the work of one
     * for the same ef); a merge pays once, re-inserting the vectors of all but the largest
     * segment into its graph (all of them where the largest has deletions).
     */
    @Override
    public void merge(int maxSegments) throws IOException {
        if (maxSegments < 1) throw new IllegalArgumentException("maxSegments must be >= 1, got " + maxSegments);
        IndexWriter w = writable();
        if (segments() <= maxSegments) return;
        w.forceMerge(maxSegments);
        commit();
    }

    private IndexWriter writable() {
        if (writer == null) throw new IllegalStateException("index " + dir + " is open read-only");
        return writer;
    }

    @Override
    public List<Hit> search(float[] query, int k) throws IOException {
        Options o = options;
        return o.exact() ? searchExact(query, k) : search(query, k, o.efSearch());
    }

    /**
     * HNSW search gathering {@code max(k, ef)} candidates (Lucene's k), re-scored with the raw
     * vectors; the best k, ties by id.
     */
    public List<Hit> search(float[] query, int k, int ef) throws IOException {
        checkQuery(query, k);
        if (ef < 1) throw new IllegalArgumentException("ef must be >= 1, got " + ef);
        IndexSearcher s = acquire();
        try {
            List<LeafReaderContext> leaves = s.getIndexReader().leaves();
            SegmentGraph[] graphs = walk ? graphs(leaves) : null;
            int[] docs = graphs != null ? walkCandidates(leaves, graphs, query, Math.max(k, ef))
                    : luceneCandidates(s, leaves, query, Math.max(k, ef));
            long[] keys = graphs != null ? reScoreFromCopies(leaves, graphs, docs, query) : reScore(leaves, docs, query);
            Arrays.sort(keys);
            int m = Math.min(k, keys.length);
            orderTiesById(keys, m, leaves);
            int[] leaf = new int[m], doc = new int[m];
            for (int j = 0; j < m; j++) {
                int global = ExactScan.index(keys[j]);
                leaf[j] = ReaderUtil.subIndex(global, leaves);
                doc[j] = global - leaves.get(leaf[j]).docBase;
            }
            IndexedImage[] images = images(leaves, leaf, doc);
            List<Hit> hits = new ArrayList<>(m);
            for (int j = 0; j < m; j++) hits.add(new Hit(images[j], ExactScan.similarity(keys[j])));
            return hits;
        } finally {
            manager.release(s);
        }
    }

    /**
     * Keys (exact dot product, global doc) of the candidates, their vectors read from Lucene
     * leaf by leaf in doc order (vector values iterate forward only).
     */
    private long[] reScore(List<LeafReaderContext> leaves, int[] docs, float[] query) throws IOException {
        docs = docs.clone();
        Arrays.sort(docs);
        long[] keys = new long[docs.length];
        int i = 0;
        while (i < docs.length) {
            LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(docs[i], leaves));
            LeafReader r = leaf.reader();
            FloatVectorValues vectors = r.getFloatVectorValues(F_VECTOR);
            int end = leaf.docBase + r.maxDoc();
            for (; i < docs.length && docs[i] < end; i++) {
                int doc = docs[i] - leaf.docBase;
                if (vectors.docID() < doc) vectors.advance(doc);
                if (vectors.docID() != doc) throw new IOException("document " + doc + " of " + dir + " has no vector");
                keys[i] = ExactScan.key(VectorDot.dot(vectors.vectorValue(), query), docs[i]);
            }
        }
        return keys;
    }

    /** {@link #reScore} from the segments' heap copies (the same floats, the same dot product). */
    private long[] reScoreFromCopies(List<LeafReaderContext> leaves, SegmentGraph[] graphs, int[] docs, float[] query)
            throws IOException {
        long[] keys = new long[docs.length];
        for (int i = 0; i < docs.length; i++) {
            int l = ReaderUtil.subIndex(docs[i], leaves);
            SegmentGraph g = graphs[l];
            int doc = docs[i] - leaves.get(l).docBase;
            int ord = g == null ? -1 : Arrays.binarySearch(g.ordToDoc, doc);
            if (ord < 0) throw new IOException("document " + doc + " of " + dir + " has no vector");
            keys[i] = ExactScan.key(VectorDot.dot(query, g.vectors, ord * g.dims), docs[i]);
        }
        return keys;
    }

    /**
     * The HNSW candidates (global docs, best n by graph score) where some segment cannot be
     * walked, or the walk is off: Lucene's own search of each segment's graph
     * ({@code searchNearestVectors} with its collector, which shares the best scores between
     * segments), then the best n of all: what {@link KnnFloatVectorQuery} would match, without
     * its rewrite into a second query and the collection of that query, which cost as much as a
     * small graph search.
     */
    static int[] luceneCandidates(IndexSearcher s, List<LeafReaderContext> leaves, float[] query, int n) throws IOException {
        if (leaves.isEmpty()) return new int[0];
        KnnCollectorManager collectors = new TopKnnCollectorManager(n, s);
        TopDocs[] perLeaf = new TopDocs[leaves.size()];
        for (int l = 0; l < perLeaf.length; l++) {
            LeafReaderContext leaf = leaves.get(l);
            LeafReader r = leaf.reader();
            FloatVectorValues values = r.getFloatVectorValues(F_VECTOR);
            if (values == null || values.size() == 0) {
                perLeaf[l] = new TopDocs(new TotalHits(0, TotalHits.Relation.EQUAL_TO), new ScoreDoc[0]);
                continue;
            }
            KnnCollector collector = collectors.newCollector(Integer.MAX_VALUE, leaf);
            r.searchNearestVectors(F_VECTOR, query, collector, r.getLiveDocs());
            TopDocs top = collector.topDocs();
            for (ScoreDoc d : top.scoreDocs) d.doc += leaf.docBase;
            perLeaf[l] = top;
        }
        ScoreDoc[] best = perLeaf.length == 1 ? perLeaf[0].scoreDocs : TopDocs.merge(n, perLeaf).scoreDocs;
        int[] docs = new int[best.length];
        for (int i = 0; i < docs.length; i++) docs[i] = best[i].doc;
        return docs;
    }

    /**
     * {@link HnswWalk} over each segment's copied graph (on one segment: Lucene's candidates
     * exactly; on several each segment keeps its own n best, where Lucene's collector prunes a
     * segment with the others' scores, so recall is at least as high), then the best n of all by
     * graph score, ties by global doc (as {@link TopDocs#merge}).
     */
    static int[] walkCandidates(List<LeafReaderContext> leaves, SegmentGraph[] graphs, float[] query, int n) {
        long[][] perLeaf = new long[leaves.size()][];
        int total = 0;
        for (int l = 0; l < perLeaf.length; l++) {
            if (graphs[l] == null) {
                perLeaf[l] = new long[0];
                continue;
            }
            perLeaf[l] = HnswWalk.search(graphs[l], query, n, leaves.get(l).reader().getLiveDocs());
            total += perLeaf[l].length;
        }
        long[] keys = new long[total];
        int at = 0;
        for (int l = 0; l < perLeaf.length; l++) {
            int base = leaves.get(l).docBase;
            int[] ordToDoc = graphs[l] == null ? null : graphs[l].ordToDoc;
            for (long k : perLeaf[l]) keys[at++] = ExactScan.key(HnswWalk.score(k), base + ordToDoc[HnswWalk.ord(k)]);
        }
        Arrays.sort(keys);
        int m = Math.min(n, keys.length);
        int[] docs = new int[m];
        for (int i = 0; i < m; i++) docs[i] = ExactScan.index(keys[i]);
        return docs;
    }

    /**
     * Each segment's {@link SegmentGraph} (null for one without vectors), copied when a search
     * first meets the segment and dropped when Lucene closes its core; null if some segment's
     * graph cannot be walked (int8 quantized, another format), so that the whole search stays
     * Lucene's.
     */
    private SegmentGraph[] graphs(List<LeafReaderContext> leaves) throws IOException {
        SegmentGraph[] out = new SegmentGraph[leaves.size()];
        for (int l = 0; l < out.length; l++) {
            LeafReader r = leaves.get(l).reader();
            FloatVectorValues values = r.getFloatVectorValues(F_VECTOR);
            if (values == null || values.size() == 0) continue;
            IndexReader.CacheHelper core = r.getCoreCacheHelper();
            if (core == null) return null;
            Optional<SegmentGraph> g = segmentGraphs.get(core.getKey());
            if (g == null) {
                synchronized (segmentGraphs) {
                    g = segmentGraphs.get(core.getKey());
                    if (g == null) {
                        g = Optional.ofNullable(SegmentGraph.of(r, F_VECTOR));
                        segmentGraphs.put(core.getKey(), g);
                        core.addClosedListener(segmentGraphs::remove);
                    }
                }
            }
            if (g.isEmpty()) return null;
            out[l] = g.get();
        }
        return out;
    }

    /**
     * Puts each run of equal scores that reaches into the first {@code limit} keys in id order
     * (the keys come sorted by score, then doc). Ids are read only for such runs: equal float
     * scores are rare except for duplicate images.
     */
    private void orderTiesById(long[] keys, int limit, List<LeafReaderContext> leaves) throws IOException {
        for (int a = 0; a < limit; ) {
            int b = a + 1;
            while (b < keys.length && (keys[b] >>> 32) == (keys[a] >>> 32)) b++;
            if (b - a > 1) {
                int len = b - a;
                String[] ids = new String[len];
                Integer[] order = new Integer[len];
                // Doc order within the run, as doc values iterate.
                for (int j = 0; j < len; ) {
                    int l = ReaderUtil.subIndex(ExactScan.index(keys[a + j]), leaves);
                    LeafReader r = leaves.get(l).reader();
                    int base = leaves.get(l).docBase, end = base + r.maxDoc();
                    IdReader idReader = new IdReader(r);
                    for (; j < len && ExactScan.index(keys[a + j]) < end; j++) {
                        ids[j] = idReader.id(ExactScan.index(keys[a + j]) - base);
                        order[j] = j;
                    }
                }
                Arrays.sort(order, Comparator.comparing(j -> ids[j]));
                long[] run = Arrays.copyOfRange(keys, a, b);
                for (int j = 0; j < len; j++) keys[a + j] = run[order[j]];
            }
            a = b;
        }
    }

    /**
     * Brute-force top-k over every vector, one pass over the matrix of this reader generation
     * ({@link ExactScan}: the results of {@link Knn#search}, bit for bit).
     */
    public List<Hit> searchExact(float[] query, int k) throws IOException {
        checkQuery(query, k);
        IndexSearcher s = acquire();
        try {
            Matrix m = matrix(s);
            if (m.ids.length == 0) return List.of();
            ExactScan.Result top = ExactScan.topK(m.vectors, m.ids.length, identity.dims(), query, k);
            int[] idx = top.indices();
            float[] sims = top.similarities();
            int[] leaf = new int[idx.length], doc = new int[idx.length];
            for (int j = 0; j < idx.length; j++) {
                leaf[j] = m.leaf[idx[j]];
                doc[j] = m.doc[idx[j]];
            }
            IndexedImage[] images = images(s.getIndexReader().leaves(), leaf, doc);
            List<Hit> hits = new ArrayList<>(idx.length);
            for (int j = 0; j < idx.length; j++) hits.add(new Hit(images[j], sims[j]));
            return hits;
        } finally {
            manager.release(s);
        }
    }

    private void checkQuery(float[] query, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        int dims = identity.dims();
        if (query.length != dims) {
            throw new IllegalArgumentException("the query has " + query.length + " dims; the index holds " + dims + "-dim descriptors of "
                    + identity.line());
        }
        for (float x : query) if (!Float.isFinite(x)) throw new IllegalArgumentException("the query has a non-finite component");
    }

    /**
     * Documents' ids in one leaf, asked in increasing doc order (doc values iterate forward):
     * from the {@link HitSummary} where a document has one, else from the id's sorted doc values
     * (documents written before summaries existed).
     */
    private final class IdReader {
        private final LeafReader reader;
        private final BinaryDocValues summaries;
        private SortedDocValues sorted;

        IdReader(LeafReader reader) throws IOException {
            this.reader = reader;
            this.summaries = reader.getBinaryDocValues(F_SUMMARY);
        }

        String id(int doc) throws IOException {
            if (summaries != null && summaries.advanceExact(doc)) return HitSummary.id(summaries.binaryValue(), () -> dir + " document " + doc);
            if (sorted == null) sorted = reader.getSortedDocValues(F_ID);
            if (sorted == null || !sorted.advanceExact(doc)) throw new IOException("document " + doc + " of " + dir + " has no id");
            return sorted.lookupOrd(sorted.ordValue()).utf8ToString();
        }
    }

    /** The vectors of one reader generation, rows ordered by id (so Knn's index tie-break is by id). */
    private record Matrix(Object reader, float[] vectors, String[] ids, int[] leaf, int[] doc) {
    }

    private Matrix matrix(IndexSearcher s) throws IOException {
        Matrix m = matrix;
        Object reader = s.getIndexReader();
        if (m != null && m.reader == reader) return m;
        synchronized (matrixLock) {
            m = matrix;
            if (m != null && m.reader == reader) return m;
            m = loadMatrix(s);
            matrix = m;
            return m;
        }
    }

    private Matrix loadMatrix(IndexSearcher s) throws IOException {
        int dims = identity.dims();
        int numDocs = s.getIndexReader().numDocs();
        if ((long) numDocs * dims > Integer.MAX_VALUE - 16) {
            throw new IOException("exact mode holds all vectors in one matrix, and " + numDocs + " x " + dims
                    + " floats do not fit one Java array; use the HNSW search (irt index without --exact)");
        }
        record Row(String id, int leaf, int doc, float[] v) {
        }
        List<Row> rows = new ArrayList<>(numDocs);
        List<LeafReaderContext> leaves = s.getIndexReader().leaves();
        for (int l = 0; l < leaves.size(); l++) {
            LeafReader r = leaves.get(l).reader();
            FloatVectorValues vectors = r.getFloatVectorValues(F_VECTOR);
            if (vectors == null) continue;
            IdReader ids = new IdReader(r);
            Bits live = r.getLiveDocs();
            for (int doc = vectors.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = vectors.nextDoc()) {
                if (live != null && !live.get(doc)) continue;
                rows.add(new Row(ids.id(doc), l, doc, vectors.vectorValue().clone()));
            }
        }
        rows.sort(Comparator.comparing(Row::id));
        // Stored as [D, N]: the scan's SIMD lanes run over items, so each dimension's values of
        // consecutive items must be contiguous.
        int n = rows.size();
        float[] all = new float[n * dims];
        String[] ids = new String[n];
        int[] leaf = new int[n], doc = new int[n];
        for (int i = 0; i < n; i++) {
            Row row = rows.get(i);
            for (int j = 0; j < dims; j++) all[j * n + i] = row.v[j];
            ids[i] = row.id;
            leaf[i] = row.leaf;
            doc[i] = row.doc;
        }
        return new Matrix(s.getIndexReader(), all, ids, leaf, doc);
    }

    @Override
    public Optional<IndexedImage> get(String id) throws IOException {
        IndexSearcher s = acquire();
        try {
            TopDocs top = s.search(new TermQuery(new Term(F_ID, id)), 1);
            if (top.scoreDocs.length == 0) return Optional.empty();
            List<LeafReaderContext> leaves = s.getIndexReader().leaves();
            int global = top.scoreDocs[0].doc;
            LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(global, leaves));
            int doc = global - leaf.docBase;
            FloatVectorValues vectors = leaf.reader().getFloatVectorValues(F_VECTOR);
            if (vectors == null || vectors.advance(doc) != doc) throw new IOException("document " + doc + " of " + dir + " has no vector");
            float[] vector = vectors.vectorValue().clone();
            IndexedImage img = images(leaves, new int[] {leaves.indexOf(leaf)}, new int[] {doc})[0];
            return Optional.of(new IndexedImage(img.id(), img.path(), vector, img.label(), img.bytes(), img.modified(), img.width(),
                    img.height(), img.metadata()));
        } finally {
            manager.release(s);
        }
    }

    /**
     * The images of documents (leaf, doc), without vectors, from doc values only (the stored
     * fields of older layouts are never read: that decompresses a block per hit, which would
     * cost more than the graph search itself). Each document's {@link HitSummary} is read where
     * it has one; documents written before summaries existed are read field by field. Doc values
     * iterate forward, so each leaf's documents are read in doc order and put back in the asked
     * order.
     */
    private IndexedImage[] images(List<LeafReaderContext> leaves, int[] leaf, int[] doc) throws IOException {
        int n = leaf.length;
        // (global doc, position) packed so that one primitive sort gives doc order per leaf
        // (global docs are below 2^31; leaves are in docBase order).
        long[] order = new long[n];
        for (int i = 0; i < n; i++) order[i] = ((long) (leaves.get(leaf[i]).docBase + doc[i]) << 32) | i;
        Arrays.sort(order);
        IndexedImage[] out = new IndexedImage[n];
        int i = 0;
        while (i < n) {
            int l = leaf[(int) order[i]];
            LeafReader r = leaves.get(l).reader();
            BinaryDocValues summaries = r.getBinaryDocValues(F_SUMMARY);
            FieldReader fields = null;
            for (; i < n && leaf[(int) order[i]] == l; i++) {
                int at = (int) order[i];
                int d = doc[at];
                if (summaries != null && summaries.advanceExact(d)) {
                    // The message is built only on failure (its concatenation cost as much as the decoding).
                    out[at] = HitSummary.decode(summaries.binaryValue(), () -> dir + " document " + d);
                } else {
                    if (fields == null) fields = new FieldReader(r);
                    out[at] = fields.image(d);
                }
            }
        }
        return out;
    }

    /** A document's image from its per-field doc values (segments written before {@link HitSummary}). */
    private final class FieldReader {
        private final SortedDocValues ids;
        private final BinaryDocValues paths;
        private final BinaryDocValues meta;
        private final NumericDocValues labels;
        private final NumericDocValues bytes;
        private final NumericDocValues modified;
        private final NumericDocValues widths;
        private final NumericDocValues heights;

        FieldReader(LeafReader r) throws IOException {
            ids = r.getSortedDocValues(F_ID);
            paths = r.getBinaryDocValues(F_PATH);
            meta = r.getBinaryDocValues(F_METADATA);
            labels = r.getNumericDocValues(F_LABEL);
            bytes = r.getNumericDocValues(F_BYTES);
            modified = r.getNumericDocValues(F_MODIFIED);
            widths = r.getNumericDocValues(F_WIDTH);
            heights = r.getNumericDocValues(F_HEIGHT);
        }

        IndexedImage image(int d) throws IOException {
            if (ids == null || paths == null || bytes == null || modified == null || widths == null || heights == null
                    || !ids.advanceExact(d) || !paths.advanceExact(d) || !bytes.advanceExact(d) || !modified.advanceExact(d)
                    || !widths.advanceExact(d) || !heights.advanceExact(d)) {
                throw new IOException("document " + d + " of " + dir + " lacks one of its fields");
            }
            Long label = labels != null && labels.advanceExact(d) ? labels.longValue() : null;
            Map<String, String> metadata = meta != null && meta.advanceExact(d)
                    ? JSON.readValue(meta.binaryValue().utf8ToString(), new TypeReference<LinkedHashMap<String, String>>() { })
                    : Map.of();
            return new IndexedImage(ids.lookupOrd(ids.ordValue()).utf8ToString(), paths.binaryValue().utf8ToString(), null, label,
                    bytes.longValue(), modified.longValue(), (int) widths.longValue(), (int) heights.longValue(), metadata);
        }
    }

    @Override
    public Map<String, IndexedImage.Stamp> stamps() throws IOException {
        IndexSearcher s = acquire();
        try {
            Map<String, IndexedImage.Stamp> out = new HashMap<>();
            for (LeafReaderContext leaf : s.getIndexReader().leaves()) {
                LeafReader r = leaf.reader();
                BinaryDocValues summaries = r.getBinaryDocValues(F_SUMMARY);
                // Documents written before summaries existed: their per-field doc values.
                SortedDocValues ids = r.getSortedDocValues(F_ID);
                BinaryDocValues paths = r.getBinaryDocValues(F_PATH);
                NumericDocValues bytes = r.getNumericDocValues(F_BYTES), modified = r.getNumericDocValues(F_MODIFIED);
                Bits live = r.getLiveDocs();
                for (int doc = 0; doc < r.maxDoc(); doc++) {
                    if (live != null && !live.get(doc)) continue;
                    int at = doc;
                    if (summaries != null && summaries.advanceExact(doc)) {
                        Map.Entry<String, IndexedImage.Stamp> e = HitSummary.stamp(summaries.binaryValue(), () -> dir + " document " + at);
                        out.put(e.getKey(), e.getValue());
                        continue;
                    }
                    if (ids == null || paths == null || bytes == null || modified == null || !ids.advanceExact(doc) || !paths.advanceExact(doc)
                            || !bytes.advanceExact(doc) || !modified.advanceExact(doc)) {
                        throw new IOException("document " + doc + " of " + dir + " has neither a hit summary nor its id, path, bytes and modified time");
                    }
                    out.put(ids.lookupOrd(ids.ordValue()).utf8ToString(),
                            new IndexedImage.Stamp(paths.binaryValue().utf8ToString(), bytes.longValue(), modified.longValue()));
                }
            }
            return out;
        } finally {
            manager.release(s);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            // Written before the writer closes, which commits (as it commits its buffered documents).
            if (writer != null) writePending();
        } finally {
            closeAll();
        }
    }

    private void closeAll() throws IOException {
        try {
            manager.close();
        } finally {
            try {
                if (writer != null) {
                    writer.setLiveCommitData(commitData(identity, options).entrySet());
                    writer.close();
                }
            } finally {
                directory.close();
            }
        }
    }

    @Override
    public String toString() {
        return "LuceneIndex[" + dir + (writer == null ? ", read-only" : "") + "]";
    }
}
