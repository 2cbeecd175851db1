package dev.irtj.index;

import org.apache.lucene.index.BaseTermsEnum;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.ByteVectorValues;
import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.Fields;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.ImpactsEnum;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.LeafMetaData;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.PointValues;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.SlowImpactsEnum;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.SortedNumericDocValues;
import org.apache.lucene.index.SortedSetDocValues;
import org.apache.lucene.index.StoredFieldVisitor;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.TermVectors;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.KnnCollector;
import org.apache.lucene.search.VectorScorer;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.Version;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * A batch of new documents of the current layout ({@link LuceneIndex#document}: the id as an
 * indexed term, the {@link HitSummary} binary doc value, the vector) as one in-memory leaf, so
 * that {@code IndexWriter.addIndexes} writes the whole batch as one segment in one pass
 * (through {@code SlowCodecReaderWrapper}, as a merge of this reader).
 *
 * <p>Why: written document by document, each image goes through Lucene's indexing chain (field
 * by field: the term into the in-memory postings, the summary and the vector into their
 * buffers), and in a fresh JVM that chain and its compilation were about as much CPU as the
 * graph itself (bench/README.md, branch coldbuild). The segment this writes holds the same
 * fields with the same schema as the chain's (the {@link FieldInfo}s below: what the chain makes
 * of a {@code StringField}, a {@code BinaryDocValuesField} and a {@code KnnFloatVectorField}),
 * the same postings (each id one document), doc values and vectors, docs in the batch's order;
 * its HNSW graph is built by the codec's merge, as for any merged segment.
 *
 * <p>Ids must be unique within the batch (the caller's pending map makes them so); no stored
 * fields, norms, points or term vectors; every document live.
 */
final class BatchReader extends LeafReader {
    private final int n;
    private final int dims;
    private final FieldInfos infos;
    private final BytesRef[] summaries;
    private final float[][] vectors;
    /** The ids' terms in term (unsigned byte) order, and the doc of each. */
    private final BytesRef[] terms;
    private final int[] termDocs;

    BatchReader(List<String> ids, List<BytesRef> summaries, List<float[]> vectors, int dims) {
        this.n = ids.size();
        if (summaries.size() != n || vectors.size() != n) {
            throw new IllegalArgumentException(n + " ids, " + summaries.size() + " summaries and " + vectors.size() + " vectors");
        }
        this.dims = dims;
        this.summaries = summaries.toArray(new BytesRef[0]);
        this.vectors = vectors.toArray(new float[0][]);
        for (float[] v : this.vectors) {
            if (v.length != dims) throw new IllegalArgumentException("a " + v.length + "-dim vector in a batch of " + dims + "-dim ones");
        }
        BytesRef[] byDoc = new BytesRef[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            byDoc[i] = new BytesRef(ids.get(i));
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> byDoc[a].compareTo(byDoc[b]));
        terms = new BytesRef[n];
        termDocs = new int[n];
        for (int i = 0; i < n; i++) {
            terms[i] = byDoc[order[i]];
            termDocs[i] = order[i];
            if (i > 0 && terms[i].equals(terms[i - 1])) throw new IllegalArgumentException("id " + ids.get(order[i]) + " twice in one batch");
        }
        infos = new FieldInfos(new FieldInfo[] {
            // StringField: indexed, docs only, no norms, not tokenized (the chain's schema for it).
            field(LuceneIndex.F_ID, 0, true, IndexOptions.DOCS, DocValuesType.NONE, 0, VectorSimilarityFunction.EUCLIDEAN),
            field(LuceneIndex.F_SUMMARY, 1, false, IndexOptions.NONE, DocValuesType.BINARY, 0, VectorSimilarityFunction.EUCLIDEAN),
            field(LuceneIndex.F_VECTOR, 2, false, IndexOptions.NONE, DocValuesType.NONE, dims, VectorSimilarityFunction.DOT_PRODUCT),
        });
    }

    /**
     * A field's schema as Lucene's indexing chain records it (non-vector fields get the chain's
     * defaults, FLOAT32 and EUCLIDEAN, which a field's schema check compares too).
     */
    private static FieldInfo field(String name, int number, boolean omitNorms, IndexOptions index, DocValuesType docValues, int vectorDims,
            VectorSimilarityFunction similarity) {
        return new FieldInfo(name, number, false, omitNorms, false, index, docValues, -1, new HashMap<>(), 0, 0, 0, vectorDims,
                VectorEncoding.FLOAT32, similarity, false, false);
    }

    @Override
    public int numDocs() {
        return n;
    }

    @Override
    public int maxDoc() {
        return n;
    }

    @Override
    public FieldInfos getFieldInfos() {
        return infos;
    }

    @Override
    public Bits getLiveDocs() {
        return null;
    }

    @Override
    public LeafMetaData getMetaData() {
        return new LeafMetaData(Version.LATEST.major, Version.LATEST, null, false);
    }

    @Override
    public Terms terms(String field) {
        return LuceneIndex.F_ID.equals(field) && n > 0 ? new IdTerms() : null;
    }

    @Override
    public BinaryDocValues getBinaryDocValues(String field) {
        return LuceneIndex.F_SUMMARY.equals(field) && n > 0 ? new Summaries() : null;
    }

    @Override
    public FloatVectorValues getFloatVectorValues(String field) {
        return LuceneIndex.F_VECTOR.equals(field) && n > 0 ? new Vectors() : null;
    }

    @Override
    public NumericDocValues getNumericDocValues(String field) {
        return null;
    }

    @Override
    public SortedDocValues getSortedDocValues(String field) {
        return null;
    }

    @Override
    public SortedNumericDocValues getSortedNumericDocValues(String field) {
        return null;
    }

    @Override
    public SortedSetDocValues getSortedSetDocValues(String field) {
        return null;
    }

    @Override
    public NumericDocValues getNormValues(String field) {
        return null;
    }

    @Override
    public ByteVectorValues getByteVectorValues(String field) {
        return null;
    }

    @Override
    public void searchNearestVectors(String field, float[] target, KnnCollector knnCollector, Bits acceptDocs) {
        throw new UnsupportedOperationException("a batch being written is not searched");
    }

    @Override
    public void searchNearestVectors(String field, byte[] target, KnnCollector knnCollector, Bits acceptDocs) {
        throw new UnsupportedOperationException("a batch being written is not searched");
    }

    @Override
    public PointValues getPointValues(String field) {
        return null;
    }

    @Override
    public void checkIntegrity() {
    }

    @Override
    public CacheHelper getCoreCacheHelper() {
        return null;
    }

    @Override
    public CacheHelper getReaderCacheHelper() {
        return null;
    }

    @Override
    public Fields getTermVectors(int docID) {
        return null;
    }

    @Override
    public TermVectors termVectors() {
        return new TermVectors() {
            @Override
            public Fields get(int doc) {
                return null;
            }
        };
    }

    @Override
    public void document(int docID, StoredFieldVisitor visitor) {
        // No stored fields.
    }

    @Override
    public StoredFields storedFields() {
        return new StoredFields() {
            @Override
            public void document(int docID, StoredFieldVisitor visitor) {
                // No stored fields.
            }
        };
    }

    @Override
    protected void doClose() {
    }

    /** Docs 0 .. n-1 in order (every document has each field). */
    private final class AllDocs extends DocIdSetIterator {
        int doc = -1;

        @Override
        public int docID() {
            return doc;
        }

        @Override
        public int nextDoc() {
            return advance(doc + 1);
        }

        @Override
        public int advance(int target) {
            doc = target < n ? target : NO_MORE_DOCS;
            return doc;
        }

        @Override
        public long cost() {
            return n;
        }
    }

    private final class Summaries extends BinaryDocValues {
        private final AllDocs docs = new AllDocs();

        @Override
        public BytesRef binaryValue() {
            return summaries[docs.doc];
        }

        @Override
        public boolean advanceExact(int target) {
            docs.doc = target;
            return target < n;
        }

        @Override
        public int docID() {
            return docs.docID();
        }

        @Override
        public int nextDoc() {
            return docs.nextDoc();
        }

        @Override
        public int advance(int target) {
            return docs.advance(target);
        }

        @Override
        public long cost() {
            return n;
        }
    }

    private final class Vectors extends FloatVectorValues {
        private final AllDocs docs = new AllDocs();

        @Override
        public int dimension() {
            return dims;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public float[] vectorValue() {
            return vectors[docs.doc];
        }

        @Override
        public VectorScorer scorer(float[] query) {
            throw new UnsupportedOperationException("a batch being written is not searched");
        }

        @Override
        public int docID() {
            return docs.docID();
        }

        @Override
        public int nextDoc() {
            return docs.nextDoc();
        }

        @Override
        public int advance(int target) {
            return docs.advance(target);
        }
    }

    private final class IdTerms extends Terms {
        @Override
        public TermsEnum iterator() {
            return new IdTermsEnum();
        }

        @Override
        public long size() {
            return n;
        }

        // Docs only (no freqs): Lucene counts each term's frequency as its doc frequency, 1.
        @Override
        public long getSumTotalTermFreq() {
            return n;
        }

        @Override
        public long getSumDocFreq() {
            return n;
        }

        @Override
        public int getDocCount() {
            return n;
        }

        @Override
        public boolean hasFreqs() {
            return false;
        }

        @Override
        public boolean hasOffsets() {
            return false;
        }

        @Override
        public boolean hasPositions() {
            return false;
        }

        @Override
        public boolean hasPayloads() {
            return false;
        }
    }

    private final class IdTermsEnum extends BaseTermsEnum {
        private int at = -1;

        @Override
        public BytesRef next() {
            if (at < n) at++;
            return at < n ? terms[at] : null;
        }

        @Override
        public SeekStatus seekCeil(BytesRef text) {
            int i = Arrays.binarySearch(terms, text);
            if (i >= 0) {
                at = i;
                return SeekStatus.FOUND;
            }
            at = -i - 1;
            return at < n ? SeekStatus.NOT_FOUND : SeekStatus.END;
        }

        @Override
        public void seekExact(long ord) {
            at = (int) ord;
        }

        @Override
        public BytesRef term() {
            return terms[at];
        }

        @Override
        public long ord() {
            return at;
        }

        @Override
        public int docFreq() {
            return 1;
        }

        @Override
        public long totalTermFreq() {
            return 1;
        }

        @Override
        public PostingsEnum postings(PostingsEnum reuse, int flags) {
            return new OneDoc(termDocs[at]);
        }

        @Override
        public ImpactsEnum impacts(int flags) {
            return new SlowImpactsEnum(postings(null, flags));
        }
    }

    /** A term's postings: one document, frequency 1, no positions. */
    private static final class OneDoc extends PostingsEnum {
        private final int target;
        private int doc = -1;

        OneDoc(int target) {
            this.target = target;
        }

        @Override
        public int docID() {
            return doc;
        }

        @Override
        public int nextDoc() {
            doc = doc == -1 ? target : NO_MORE_DOCS;
            return doc;
        }

        @Override
        public int advance(int t) {
            doc = doc == -1 && t <= target ? target : NO_MORE_DOCS;
            return doc;
        }

        @Override
        public long cost() {
            return 1;
        }

        @Override
        public int freq() {
            return 1;
        }

        @Override
        public int nextPosition() {
            return -1;
        }

        @Override
        public int startOffset() {
            return -1;
        }

        @Override
        public int endOffset() {
            return -1;
        }

        @Override
        public BytesRef getPayload() {
            return null;
        }
    }
}
