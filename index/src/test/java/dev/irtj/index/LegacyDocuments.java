package dev.irtj.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.BytesRef;

/**
 * The document layouts {@link LuceneIndex} wrote before its current one, for tests that write
 * segments of them and check that they stay readable (alone, beside and merged with new ones).
 */
final class LegacyDocuments {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LegacyDocuments() {
    }

    /** The first layout: every field stored and in a doc value of its own (the id's sorted), no summary. */
    static Document fieldByField(IndexedImage img) throws JsonProcessingException {
        Document doc = new Document();
        doc.add(new StringField(LuceneIndex.F_ID, img.id(), Field.Store.YES));
        doc.add(new SortedDocValuesField(LuceneIndex.F_ID, new BytesRef(img.id())));
        doc.add(new StoredField(LuceneIndex.F_PATH, img.path()));
        doc.add(new BinaryDocValuesField(LuceneIndex.F_PATH, new BytesRef(img.path())));
        if (img.label() != null) {
            doc.add(new StoredField(LuceneIndex.F_LABEL, img.label()));
            doc.add(new NumericDocValuesField(LuceneIndex.F_LABEL, img.label()));
        }
        doc.add(new StoredField(LuceneIndex.F_BYTES, img.bytes()));
        doc.add(new NumericDocValuesField(LuceneIndex.F_BYTES, img.bytes()));
        doc.add(new StoredField(LuceneIndex.F_MODIFIED, img.modified()));
        doc.add(new NumericDocValuesField(LuceneIndex.F_MODIFIED, img.modified()));
        doc.add(new StoredField(LuceneIndex.F_WIDTH, img.width()));
        doc.add(new NumericDocValuesField(LuceneIndex.F_WIDTH, img.width()));
        doc.add(new StoredField(LuceneIndex.F_HEIGHT, img.height()));
        doc.add(new NumericDocValuesField(LuceneIndex.F_HEIGHT, img.height()));
        if (!img.metadata().isEmpty()) {
            String json = JSON.writeValueAsString(img.metadata());
            doc.add(new StoredField(LuceneIndex.F_METADATA, json));
            doc.add(new BinaryDocValuesField(LuceneIndex.F_METADATA, new BytesRef(json)));
        }
        doc.add(new KnnFloatVectorField(LuceneIndex.F_VECTOR, img.vector(), VectorSimilarityFunction.DOT_PRODUCT));
        return doc;
    }

    /** The second layout: the first one plus the {@link HitSummary} doc value. */
    static Document withSummary(IndexedImage img) throws JsonProcessingException {
        Document doc = fieldByField(img);
        doc.add(new BinaryDocValuesField(LuceneIndex.F_SUMMARY, HitSummary.encode(img)));
        return doc;
    }
}
