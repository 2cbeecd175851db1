package dev.irtj.cli;

import dev.irtj.index.IndexMismatchException;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the index is, as {@code index}, {@code search} and {@code serve} take it: an embedded
 * Lucene folder ({@code --index DIR}).
 */
public final class IndexOptions {
    @Option(names = "--index", paramLabel = "DIR", description = "The index folder (an embedded Lucene index; irt index creates it when missing).")
    Path index;

    /** The folder, or a usage error when none was given. */
    Path folder() {
        if (index == null) throw new UsageException("--index DIR is required (the index folder)");
        return index;
    }

    /**
     * Fails with one line unless the index folder exists as a writable folder or can be created:
     * checked before a model is loaded or an image described. A file is created and deleted in
     * the folder (or its nearest existing parent) because permission bits say nothing for root or
     * on a read-only mount.
     */
    void checkWritable() {
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
            throw new UsageException("--index " + index + ": cannot write in " + probe + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    /** Whether an index is already there. */
    boolean exists() throws IOException {
        return recordedIdentity().isPresent();
    }

    /** The describer the index recorded, when there is one. */
    Optional<LuceneIndex.Identity> recordedIdentity() throws IOException {
        return LuceneIndex.recordedIdentity(folder());
    }

    /** The options the index recorded, when there is one. */
    Optional<LuceneIndex.Options> recordedOptions() throws IOException {
        return LuceneIndex.recordedOptions(folder());
    }

    /**
     * Opens the index for writing descriptors of {@code describer} (creating it when missing);
     * another describer's index is a usage error naming both.
     */
    VectorIndex openForWriting(LuceneIndex.Identity describer, LuceneIndex.Options options) throws IOException {
        try {
            return LuceneIndex.open(folder(), describer, options);
        } catch (IndexMismatchException e) {
            throw new UsageException("--index " + index + ": " + e.getMessage());
        }
    }

    /** Opens the index for searching; it must exist. A writer may be adding images meanwhile. */
    VectorIndex openForReading() throws IOException {
        try {
            return LuceneIndex.openReadOnly(folder());
        } catch (IndexMismatchException e) {
            throw new UsageException("--index " + index + ": " + e.getMessage());
        } catch (IOException e) {
            if (!exists()) throw new UsageException("--index " + index + ": no index there (irt index --index DIR --images ... creates one)");
            throw e;
        }
    }
}
