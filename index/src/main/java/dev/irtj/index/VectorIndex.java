package dev.irtj.index;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A searchable set of image descriptors: the embedded Lucene index ({@code LuceneIndex}) on one
 * machine, a SolrCloud collection ({@code SolrIndex}) beyond it. Both store the same
 * {@link IndexedImage} fields and answer the same top-k by dot product of L2-normalized
 * descriptors (cosine similarity).
 *
 * <p>Writes become visible to {@link #search} after {@link #commit()} (the embedded index also
 * refreshes its reader near-real-time, so searches keep working while another writer adds
 * images). Every index records the {@link IndexInfo#fingerprint() fingerprint} of the describer
 * that filled it; adding vectors under another fingerprint is refused.
 */
public interface VectorIndex extends AutoCloseable {
    /** Fingerprint, descriptor length and size of the index. */
    IndexInfo info() throws IOException;

    /** Adds the images, replacing any with the same {@link IndexedImage#id()}. */
    void upsert(Collection<IndexedImage> images) throws IOException;

    /** Removes the images with these ids (unknown ids are ignored). */
    void delete(Collection<String> ids) throws IOException;

    /** Makes every write so far durable and visible to searches. */
    void commit() throws IOException;

    /**
     * Merges the index into at most {@code maxSegments} pieces (and commits) where it is made of
     * pieces searched one after another, as the embedded index's segments are; a hint, which an
     * index that manages its own layout (Solr) ignores.
     */
    default void merge(int maxSegments) throws IOException {
    }

    /**
     * The {@code k} images most similar to {@code query} (L2-normalized, {@link IndexInfo#dims()}
     * floats), best first; ties by id.
     */
    List<Hit> search(float[] query, int k) throws IOException;

    /** The image with this id, with its vector, if indexed. */
    Optional<IndexedImage> get(String id) throws IOException;

    /** Id → (path, bytes, modified) of every indexed image: what an incremental update compares. */
    Map<String, IndexedImage.Stamp> stamps() throws IOException;

    /**
     * The {@code ImageDescriber.source()} JSON recorded with the index, from which
     * {@code DescriptorPipeline.reopen} rebuilds its describer (so that searching needs no model
     * options); {@code "{}"} when the index recorded none.
     */
    default String describerSource() throws IOException {
        return "{}";
    }

    @Override
    void close() throws IOException;

    /** One result: the image (its vector may be null) and its similarity to the query. */
    record Hit(IndexedImage image, float score) {
    }
}
