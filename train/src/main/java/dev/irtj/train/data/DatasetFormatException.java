package dev.irtj.train.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A dataset index or data file that cannot be read as its format says: the message names the
 * file and, for text files, the 1-based line number and the offending line.
 */
public final class DatasetFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final Path file;
    private final int line;

    /** A problem with the whole file (or a binary file): {@code line} is 0. */
    public DatasetFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
        this.line = 0;
    }

    /** A problem on 1-based line {@code line}, whose text is quoted in the message. */
    public DatasetFormatException(Path file, int line, String text, String problem) {
        super(file + ":" + line + ": " + problem + " (line: \"" + abbreviate(text) + "\")");
        this.file = file;
        this.line = line;
    }

    public DatasetFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.line = 0;
    }

    public Path file() {
        return file;
    }

    /** 1-based line number, or 0 when the problem is not tied to a line. */
    public int line() {
        return line;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
