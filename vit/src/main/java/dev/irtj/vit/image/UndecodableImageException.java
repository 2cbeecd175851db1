package dev.irtj.vit.image;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file could be read but is not an image that can be decoded: empty, truncated, corrupt, or in
 * a format for which no {@code javax.imageio} reader is installed.
 *
 * <p>The message always names the file and the reason, e.g. {@code "/data/x.jpg: cannot decode
 * image: truncated image data (Corrupt JPEG data: premature end of data segment)"}. Plain I/O
 * failures (a missing file, no permission) are not wrapped: they reach the caller as the {@link
 * IOException} that {@code java.nio.file.Files} threw.
 */
public class UndecodableImageException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;
    private final String reason;

    public UndecodableImageException(Path path, String reason) {
        this(path, reason, null);
    }

    public UndecodableImageException(Path path, String reason, Throwable cause) {
        super(path + ": cannot decode image: " + reason, cause);
        this.path = path;
        this.reason = reason;
    }

    /** The file that could not be decoded. */
    public Path path() {
        return path;
    }

    /** Why it could not be decoded, without the path. */
    public String reason() {
        return reason;
    }
}
