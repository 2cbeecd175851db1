package dev.irtj.index;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HNSW search path: its candidates are exactly those of Lucene's {@link KnnFloatVectorQuery}
 * (which it no longer runs), and documents of every layout LuceneIndex has written read back
 * alike, alone or merged with newer ones.
 */
class LuceneIndexSearchTest {
    /**
     * Over several segments with deletions, with Lucene's graph search (the walk off): the top k
     * of index.search(q, k, ef) are the max(k, ef) documents KnnFloatVectorQuery matches,
     * re-scored with the float dot product and ordered by score, then id, with the very same
     * scores. (The walk, which does not prune a segment by the others' scores, is held to
     * Lucene's candidates on one segment and to its recall on several: HnswWalkTest.)
     */
    @Test
    void hnswHitsAreLucenesKnnQueryMatchesReScored(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(21, 1200, 16);
        List<IndexedImage> images = Vectors.images(data);
        Map<String, float[]> byId = new HashMap<>();
        for (IndexedImage img : images) byId.put(img.id(), img.vector());
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            for (int from = 0; from < data.size(); from += 300) {
                index.upsert(images.subList(from, from + 300));
                index.commit();
            }
            List<String> gone = new ArrayList<>();
            for (int i = 5; i < data.size(); i += 37) gone.add(Vectors.id(i));
            index.delete(gone);
            index.commit();
            gone.forEach(byId::remove);
            assertTrue(index.segments() >= 4, "several segments: " + index.segments());
            index.walk(false);

            List<float[]> queries = Vectors.units(22, 40, 16);
            try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
                IndexSearcher searcher = new IndexSearcher(r);
                for (int[] kEf : new int[][] {{10, 10}, {10, 40}, {5, 100}, {30, 20}}) {
                    int k = kEf[0], ef = kEf[1], n = Math.max(k, ef);
                    for (float[] q : queries) {
                        record Scored(String id, float score) {
                        }
                        List<Scored> expected = new ArrayList<>();
                        for (ScoreDoc sd : searcher.search(new KnnFloatVectorQuery(LuceneIndex.F_VECTOR, q, n), n).scoreDocs) {
                            String id = summaryId(r, sd.doc);
                            expected.add(new Scored(id, VectorDot.dot(byId.get(id), q)));
                        }
                        expected.sort(Comparator.comparing((Scored s) -> -s.score()).thenComparing(Scored::id));
                        List<VectorIndex.Hit> hits = index.search(q, k, ef);
                        assertEquals(Math.min(k, expected.size()), hits.size());
                        for (int j = 0; j < hits.size(); j++) {
                            assertEquals(expected.get(j).id(), hits.get(j).image().id(), "k " + k + " ef " + ef + " rank " + j);
                            assertEquals(expected.get(j).score(), hits.get(j).score(), 0f, "k " + k + " ef " + ef + " rank " + j);
                        }
                    }
                }
            }
        }
    }

    /**
     * An index written in the two earlier layouts (every field stored and in its own doc value,
     * without and then with a summary: {@link LegacyDocuments}), one segment each, to which
     * LuceneIndex then adds a third segment (its layout, with the id's sorted doc values that
     * Lucene's schema check requires there), then all merged into one segment holding the three
     * kinds: every hit, in HNSW and exact search and by id, is the image as written (without its
     * vector), stamps() has every image's, and an upsert replaces an old document.
     */
    @Test
    void documentsOfEveryLayoutAreReadAloneAndMerged(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(23, 300, 16);
        List<IndexedImage> images = new ArrayList<>(Vectors.images(data));
        // One image without a label and without metadata, one with both, in each layout.
        for (int i : new int[] {7, 107, 207}) {
            images.set(i, new IndexedImage(images.get(i).id(), "/elsewhere/" + i + ".png", data.get(i), null, 1, 2, 3, 4, Map.of()));
        }
        for (int i : new int[] {50, 150, 250}) {
            images.set(i, new IndexedImage(images.get(i).id(), "/data/" + i + ".png", data.get(i), 9L, 5, 6, 7, 8,
                    Map.of("caption", "number " + i, "k", "v")));
        }
        // An empty index with the describer recorded, then the old writer's two segments.
        LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults()).close();
        try (Directory d = FSDirectory.open(dir);
             IndexWriter w = new IndexWriter(d, new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.APPEND))) {
            w.setLiveCommitData(SegmentInfos.readLatestCommit(d).getUserData().entrySet());
            for (IndexedImage img : images.subList(0, 100)) w.addDocument(LegacyDocuments.fieldByField(img));
            w.commit();
            for (IndexedImage img : images.subList(100, 200)) w.addDocument(LegacyDocuments.withSummary(img));
            w.commit();
        }
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            index.upsert(images.subList(200, 300));
            index.commit();
        }
        Map<String, IndexedImage.Stamp> stamps = new HashMap<>();
        for (IndexedImage img : images) stamps.put(img.id(), img.stamp());
        for (boolean merged : new boolean[] {false, true}) {
            try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
                if (merged) index.merge(1);
                assertEquals(merged ? 1 : 3, index.segments());
                for (int i : new int[] {0, 7, 50, 99, 100, 107, 150, 199, 200, 207, 250, 299}) {
                    IndexedImage want = withoutVector(images.get(i));
                    assertEquals(want, index.search(data.get(i), 3, 20).get(0).image(), "hnsw " + i + " merged " + merged);
                    assertEquals(want, index.searchExact(data.get(i), 3).get(0).image(), "exact " + i + " merged " + merged);
                    assertEquals(want, withoutVector(index.get(want.id()).orElseThrow()), "get " + i + " merged " + merged);
                }
                // Every hit of a broad search, from all kinds of document at once.
                for (VectorIndex.Hit h : index.search(data.get(140), 300, 300)) {
                    int i = Integer.parseInt(h.image().id().substring(4, 10));
                    assertEquals(withoutVector(images.get(i)), h.image(), "hit " + i + " merged " + merged);
                }
                assertEquals(stamps, index.stamps(), "merged " + merged);
            }
        }
        // An upsert finds old documents by their id term and replaces them.
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            List<IndexedImage> changed = new ArrayList<>();
            for (int i : new int[] {20, 120, 280}) {
                IndexedImage old = images.get(i);
                changed.add(new IndexedImage(old.id(), "/moved/" + i + ".png", old.vector(), 3L, 11, 12, 13, 14, Map.of("new", "yes")));
            }
            index.upsert(changed);
            index.commit();
            assertEquals(300, index.info().count());
            for (IndexedImage img : changed) {
                assertEquals(withoutVector(img), index.search(img.vector(), 1, 20).get(0).image());
                assertEquals(img.stamp(), index.stamps().get(img.id()));
            }
        }
    }

    /**
     * A new index's documents are the current layout: the id an indexed term without doc values,
     * the summary, the vector; no stored fields, no other field.
     */
    @Test
    void aNewIndexWritesTheIdTermTheSummaryAndTheVectorOnly(@TempDir Path dir) throws IOException {
        List<IndexedImage> images = Vectors.images(Vectors.units(24, 50, 16));
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            index.upsert(images);
            index.commit();
            index.upsert(images.subList(0, 5));   // replaced by their id terms
            index.commit();
            assertEquals(50, index.info().count());
        }
        try (Directory d = FSDirectory.open(dir); DirectoryReader r = DirectoryReader.open(d)) {
            FieldInfos infos = FieldInfos.getMergedFieldInfos(r);
            Set<String> names = new TreeSet<>();
            for (FieldInfo f : infos) names.add(f.name);
            assertEquals(new TreeSet<>(List.of(LuceneIndex.F_ID, LuceneIndex.F_SUMMARY, LuceneIndex.F_VECTOR)), names);
            assertEquals(DocValuesType.NONE, infos.fieldInfo(LuceneIndex.F_ID).getDocValuesType());
            assertEquals(IndexOptions.DOCS, infos.fieldInfo(LuceneIndex.F_ID).getIndexOptions());
            assertEquals(DocValuesType.BINARY, infos.fieldInfo(LuceneIndex.F_SUMMARY).getDocValuesType());
            StoredFields stored = r.storedFields();
            for (int doc = 0; doc < r.maxDoc(); doc++) assertEquals(List.of(), stored.document(doc).getFields(), "document " + doc);
        }
    }

    /** No segment, or segments whose every document is deleted: no hits, in both modes. */
    @Test
    void anEmptyIndexHasNoHits(@TempDir Path dir) throws IOException {
        float[] q = Vectors.unit(new dev.irtj.tensor.Rng(3), 16);
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            assertEquals(List.of(), index.search(q, 5, 50));
            assertEquals(List.of(), index.searchExact(q, 5));
            index.upsert(Vectors.images(Vectors.units(4, 20, 16)));
            index.commit();
            index.delete(Vectors.images(Vectors.units(4, 20, 16)).stream().map(IndexedImage::id).toList());
            index.commit();
            assertEquals(List.of(), index.search(q, 5, 50));
            assertEquals(List.of(), index.searchExact(q, 5));
        }
    }

    /** The id in the hit summary of a top-level document of r. */
    private static String summaryId(DirectoryReader r, int doc) throws IOException {
        LeafReaderContext leaf = r.leaves().get(ReaderUtil.subIndex(doc, r.leaves()));
        BinaryDocValues summaries = leaf.reader().getBinaryDocValues(LuceneIndex.F_SUMMARY);
        assertTrue(summaries.advanceExact(doc - leaf.docBase), "document " + doc + " has a summary");
        return HitSummary.id(summaries.binaryValue(), () -> "document " + doc);
    }

    private static IndexedImage withoutVector(IndexedImage img) {
        return new IndexedImage(img.id(), img.path(), null, img.label(), img.bytes(), img.modified(), img.width(), img.height(),
                img.metadata());
    }
}
