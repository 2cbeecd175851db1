package dev.irtj.index;

import java.io.IOException;

/**
 * An index folder holds descriptors of another describer (fingerprint or length) than the one
 * offered, or is not an irtj index at all. The message is one line naming both.
 */
public final class IndexMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    public IndexMismatchException(String message) {
        super(message);
    }
}
