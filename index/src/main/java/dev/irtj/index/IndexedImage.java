package dev.irtj.index;

import java.util.Map;
import java.util.Objects;

/**
 * One image of a catalogue as an index stores it.
 *
 * @param id stable identifier: the path relative to the catalogue root, with '/' separators
 *     (what {@code irt serve} puts in {@code /images/{id}}, URL-encoded)
 * @param path where the file is (absolute, or relative to where the index was built)
 * @param vector the L2-normalized descriptor (null in search results that do not ask for it)
 * @param label class label, or null (a folder layout's class, or the metadata sidecar's)
 * @param bytes file size in bytes
 * @param modified last-modified time of the file, epoch milliseconds
 * @param width pixel width
 * @param height pixel height
 * @param metadata user fields from the catalogue's sidecar (CSV or JSON lines), never null
 */
public record IndexedImage(String id, String path, float[] vector, Long label, long bytes, long modified, int width, int height,
                           Map<String, String> metadata) {
    public IndexedImage {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(path, "path");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    public Stamp stamp() {
        return new Stamp(path, bytes, modified);
    }

    /** What says whether a file changed since it was indexed. */
    public record Stamp(String path, long bytes, long modified) {
    }
}
