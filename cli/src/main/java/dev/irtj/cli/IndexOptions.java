package dev.irtj.cli;

import dev.irtj.index.IndexMismatchException;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;
import dev.irtj.index.solr.SolrIndex;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the index is, as {@code index}, {@code search} and {@code serve} take it: an embedded
 * Lucene folder ({@code --index DIR}) or a SolrCloud collection
 * ({@code --solr ZK_HOSTS_OR_URL --collection NAME}).
 */
public final class IndexOptions {
    @Option(names = "--index", paramLabel = "DIR", description = "The index folder (an embedded Lucene index; irt index creates it when missing).")
    Path index;

    @Option(names = "--solr", paramLabel = "ZK_HOSTS_OR_URL",
            description = "A SolrCloud instead of --index: ZooKeeper hosts (zk1:2181,zk2:2181[/chroot]) or Solr base URLs (http://host:8983/solr[,...]); with --collection.")
    String solr;

    @Option(names = "--collection", paramLabel = "NAME", description = "The SolrCloud collection of --solr (irt index creates it when missing).")
    String collection;

    /** Whether the index is a SolrCloud collection; checks that exactly one location was given. */
    boolean isSolr() {
        if (index != null && (solr != null || collection != null)) {
            throw new UsageException("give either --index DIR or --solr ZK_HOSTS_OR_URL --collection NAME, not both");
        }
        if (solr != null) {
            if (solr.isBlank()) throw new UsageException("--solr expects ZooKeeper hosts (host:2181[,...][/chroot]) or Solr URLs (http://host:8983/solr), got ''");
            if (collection == null) throw new UsageException("--solr " + solr + " needs --collection NAME (the SolrCloud collection)");
            return true;
        }
        if (collection != null) throw new UsageException("--collection " + collection + " needs --solr ZK_HOSTS_OR_URL (where the SolrCloud is)");
        if (index == null) {
            throw new UsageException("--index DIR is required (an embedded index folder), or --solr ZK_HOSTS_OR_URL --collection NAME (a SolrCloud collection)");
        }
        return false;
    }

    /** The folder, or a usage error when the index is not one. */
    Path folder() {
        if (isSolr()) throw new IllegalStateException("--solr " + solr + " --collection " + collection + " is not an index folder");
        return index;
    }

    /** The location as flags, to start a one-line message: {@code --index DIR} or {@code --solr ADDR --collection NAME}. */
    String flags() {
        return isSolr() ? "--solr " + solr + " --collection " + collection : "--index " + index;
    }

    /** The location for progress lines: the folder, or the collection and its address. */
    String shown() {
        return isSolr() ? "SolrCloud collection " + collection + " at " + solr : index.toString();
    }

    /**
     * Fails with one line unless the index folder exists as a writable folder or can be created:
     * checked before a model is loaded or an image described. A file is created and deleted in
     * the folder (or its nearest existing parent) because permission bits say nothing for root or
     * on a read-only mount. A SolrCloud collection is checked the same early: the cluster must
     * answer, and an existing collection must be irtj's and have the {@code layout} asked for
     * (a missing one is created later).
     */
    void checkWritable(SolrLayout layout) throws IOException {
        if (isSolr()) {
            SolrIndex.Options probe = SolrIndex.Options.existing();
            probe = new SolrIndex.Options(null, null, null, 0, false, layout.shards(), layout.replicas(), layout.hnswM(), layout.beamWidth(),
                    probe.efSearch(), probe.connectTimeout());
            try (SolrIndex existing = openSolr(probe)) {
                existing.info();
            } catch (SolrIndex.NoSuchCollectionException e) {
                // created by openForWriting, once the model is loaded
            }
            return;
        }
        Path dir = folder().toAbsolutePath().normalize();
        Path probe = dir;
        while (probe != null && !Files.exists(probe)) probe = probe.getParent();
        if (probe == null) throw new UsageException("--index " + index + ": no existing parent folder");
        if (!Files.isDirectory(probe)) {
            throw new UsageException("--index " + index + ": " + probe + " is a file, not a folder (expected an index folder)");
        }
        try {
            Path f = Files.createTempFile(probe, ".irt-write-check", ".tmp");
            Files.delete(f);
        } catch (IOException e) {
            throw new UsageException("--index " + index + ": cannot write in " + probe + ": " + dev.irtj.tensor.FileProblems.why(e));
        }
    }

    /** Whether an embedded index is already in the folder. */
    boolean exists() throws IOException {
        return LuceneIndex.recordedIdentity(folder()).isPresent();
    }

    /**
     * The {@code ImageDescriber.source()} JSON the index recorded, when there is an index:
     * empty for a missing folder or collection.
     */
    Optional<String> recordedSource() throws IOException {
        if (!isSolr()) return LuceneIndex.recordedIdentity(folder()).map(LuceneIndex.Identity::source);
        try (SolrIndex existing = openSolr(SolrIndex.Options.existing())) {
            return Optional.of(existing.describerSource());
        } catch (SolrIndex.NoSuchCollectionException e) {
            return Optional.empty();
        }
    }

    /** The options an embedded index recorded, when there is one (a SolrCloud collection has none of these). */
    Optional<LuceneIndex.Options> recordedOptions() throws IOException {
        if (isSolr()) return Optional.empty();
        return LuceneIndex.recordedOptions(folder());
    }

    /**
     * Opens the index for writing descriptors of {@code describer}, creating it when missing
     * (an embedded index with {@code options}; a collection with {@code layout}); another
     * describer's index is a usage error naming both.
     */
    VectorIndex openForWriting(LuceneIndex.Identity describer, LuceneIndex.Options options, SolrLayout layout) throws IOException {
        if (isSolr()) {
            return openSolr(SolrIndex.Options.of(describer).creatingIfMissing(layout.shards(), layout.replicas())
                    .withHnsw(layout.hnswM(), layout.beamWidth()));
        }
        try {
            return LuceneIndex.open(folder(), describer, options);
        } catch (IndexMismatchException e) {
            throw new UsageException("--index " + index + ": " + e.getMessage());
        }
    }

    /** Opens the index for searching; it must exist. A writer may be adding images meanwhile. */
    VectorIndex openForReading() throws IOException {
        return openForReading(null);
    }

    /**
     * The same, with the per-search HNSW candidates of a collection ({@code efSearch}, or null
     * for SolrIndex's default); an embedded index takes --ef per search instead.
     */
    VectorIndex openForReading(Integer efSearch) throws IOException {
        if (isSolr()) {
            SolrIndex.Options o = SolrIndex.Options.existing();
            if (efSearch != null) o = o.withEfSearch(efSearch);
            try {
                return openSolr(o);
            } catch (SolrIndex.NoSuchCollectionException e) {
                throw new UsageException(flags() + ": no such collection (irt index --solr ADDR --collection NAME --images ... creates one)");
            }
        }
        try {
            return LuceneIndex.openReadOnly(folder());
        } catch (IndexMismatchException e) {
            throw new UsageException("--index " + index + ": " + e.getMessage());
        } catch (IOException e) {
            if (!exists()) throw new UsageException("--index " + index + ": no index there (irt index --index DIR --images ... creates one)");
            throw e;
        }
    }

    /**
     * A collection's layout when irt index creates it; 0 = not given (1 shard, 1 replica,
     * HNSW 16 / 100 when creating; not checked against an existing collection).
     */
    record SolrLayout(int shards, int replicas, int hnswM, int beamWidth) {
        static final SolrLayout NONE = new SolrLayout(0, 0, 0, 0);
    }

    /**
     * SolrIndex.open; its failures are one line already, naming the collection and address. A
     * collection that irtj did not make or of another describer, and a malformed address or
     * name, are usage errors; an address that does not answer, or a collection of another
     * layout, stay I/O errors (exit 1).
     */
    private SolrIndex openSolr(SolrIndex.Options options) throws IOException {
        Irt.quietLibraryLogging(); // SolrJ and ZooKeeper's client log INFO per connection
        try {
            return SolrIndex.open(solr, collection, options);
        } catch (IndexMismatchException e) {
            throw new UsageException(flags() + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new UsageException(flags() + ": " + e.getMessage());
        }
    }
}
