package dev.irtj.train.data;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reading the whitespace-separated text index files of the retrieval benchmarks. */
final class TextIndex {
    private TextIndex() {
    }

    /** One non-blank line: its 1-based number, its text and its fields. */
    record Line(Path file, int number, String text, String[] fields) {
        DatasetFormatException error(String problem) {
            return new DatasetFormatException(file, number, text, problem);
        }

        /** Exactly {@code n} fields, described by {@code layout} in the message otherwise. */
        void expectFields(int n, String layout) throws DatasetFormatException {
            if (fields.length != n) {
                throw error("expected " + n + " fields (" + layout + "), found " + fields.length);
            }
        }

        /** Field {@code field} as a path below {@code dir}; a name the file system cannot hold (a NUL byte) is this line's error. */
        Path resolve(Path dir, int field, String what) throws DatasetFormatException {
            try {
                return dir.resolve(fields[field]);
            } catch (java.nio.file.InvalidPathException e) {
                throw error(what + " \"" + fields[field].replace("\u0000", "\\0") + "\" is not a valid file name (" + e.getReason() + ")");
            }
        }

        long parseLong(int field, String what) throws DatasetFormatException {
            try {
                return Long.parseLong(fields[field]);
            } catch (NumberFormatException e) {
                throw error(what + " \"" + fields[field] + "\" is not an integer");
            }
        }
    }

    /** The file must exist; {@code what} names it in the message, e.g. "CUB-200-2011 image list". */
    static void requireFile(Path file, String what) throws NoSuchFileException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, what + " not found");
        }
    }

    /**
     * The lines of {@code file} (UTF-8, a leading byte-order mark dropped, CR LF accepted), with
     * 1-based numbers; blank lines are dropped, others are split on runs of whitespace.
     */
    static List<Line> read(Path file, String what) throws IOException {
        requireFile(file, what);
        List<String> raw;
        try {
            raw = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new DatasetFormatException(file, "is not UTF-8 text", e);
        }
        List<Line> out = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            String s = raw.get(i);
            if (i == 0 && s.startsWith("\uFEFF")) s = s.substring(1);
            String t = s.strip();
            if (t.isEmpty()) continue;
            out.add(new Line(file, i + 1, s, t.split("\\s+")));
        }
        return out;
    }
}
