package dev.irtj.index;

import org.apache.lucene.document.Document;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HNSW search path: its candidates are exactly those of Lucene's {@link KnnFloatVectorQuery}
 * (which it no longer runs), and hits read from {@link HitSummary} equal those read field by field
 * from segments written before summaries, alone or merged with newer ones.
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
                StoredFields stored = r.storedFields();
                for (int[] kEf : new int[][] {{10, 10}, {10, 40}, {5, 100}, {30, 20}}) {
                    int k = kEf[0], ef = kEf[1], n = Math.max(k, ef);
                    for (float[] q : queries) {
                        record Scored(String id, float score) {
                        }
                        List<Scored> expected = new ArrayList<>();
                        for (ScoreDoc sd : searcher.search(new KnnFloatVectorQuery(LuceneIndex.F_VECTOR, q, n), n).scoreDocs) {
                            String id = stored.document(sd.doc).get(LuceneIndex.F_ID);
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
     * Documents written without a summary (as before it existed) in segments of their own, then
     * merged with summarized ones into one segment holding both kinds: every hit, in HNSW and exact
     * search and by id, is the image as written (without its vector).
     */
    @Test
    void documentsWithoutSummariesAreReadFieldByField(@TempDir Path dir) throws IOException {
        List<float[]> data = Vectors.units(23, 300, 16);
        List<IndexedImage> images = new ArrayList<>(Vectors.images(data));
        // One image without a label and without metadata, one with both.
        images.set(7, new IndexedImage(images.get(7).id(), "/elsewhere/seven.png", data.get(7), null, 1, 2, 3, 4, Map.of()));
        images.set(250, new IndexedImage(images.get(250).id(), "/data/250.png", data.get(250), 9L, 5, 6, 7, 8,
                Map.of("caption", "two hundred fifty", "k", "v")));
        try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
            index.upsert(images.subList(0, 150));
            index.commit();
        }
        try (Directory d = FSDirectory.open(dir);
             IndexWriter w = new IndexWriter(d, new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.APPEND))) {
            w.setLiveCommitData(SegmentInfos.readLatestCommit(d).getUserData().entrySet());
            for (IndexedImage img : images.subList(150, 300)) {
                Document doc = LuceneIndex.document(img);
                doc.removeField(LuceneIndex.F_SUMMARY);
                w.addDocument(doc);
            }
            w.commit();
        }
        for (boolean merged : new boolean[] {false, true}) {
            try (LuceneIndex index = LuceneIndex.open(dir, Vectors.MODEL_A, LuceneIndex.Options.defaults())) {
                if (merged) index.merge(1);
                assertEquals(merged ? 1 : 2, index.segments());
                for (int i : new int[] {0, 7, 149, 150, 250, 299}) {
                    IndexedImage want = withoutVector(images.get(i));
                    assertEquals(want, index.search(data.get(i), 3, 20).get(0).image(), "hnsw " + i + " merged " + merged);
                    assertEquals(want, index.searchExact(data.get(i), 3).get(0).image(), "exact " + i + " merged " + merged);
                    assertEquals(want, withoutVector(index.get(want.id()).orElseThrow()), "get " + i + " merged " + merged);
                }
                // Every hit of a broad search, from both kinds of document at once.
                for (VectorIndex.Hit h : index.search(data.get(140), 300, 300)) {
                    int i = Integer.parseInt(h.image().id().substring(4, 10));
                    assertEquals(withoutVector(images.get(i)), h.image(), "hit " + i + " merged " + merged);
                }
            }
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

    private static IndexedImage withoutVector(IndexedImage img) {
        return new IndexedImage(img.id(), img.path(), null, img.label(), img.bytes(), img.modified(), img.width(), img.height(),
                img.metadata());
    }
}
