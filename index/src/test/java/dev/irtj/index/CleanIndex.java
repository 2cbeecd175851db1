package dev.irtj.index;

import org.apache.lucene.index.CheckIndex;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tests: Lucene's own {@code CheckIndex} over an index folder, its log in the failure message. */
final class CleanIndex {
    private CleanIndex() {
    }

    static void assertClean(Path dir) throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Directory d = FSDirectory.open(dir); CheckIndex check = new CheckIndex(d)) {
            check.setInfoStream(new PrintStream(log, true, StandardCharsets.UTF_8));
            CheckIndex.Status status = check.checkIndex();
            assertTrue(status.clean, "CheckIndex:\n" + log.toString(StandardCharsets.UTF_8));
        }
    }
}
