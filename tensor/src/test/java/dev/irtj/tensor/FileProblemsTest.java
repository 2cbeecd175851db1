package dev.irtj.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileProblemsTest {
    @Test
    void javaNioFailuresSayWhatIsWrongWithWhichFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException below = assertThrows(IOException.class, () -> Files.createDirectories(file.resolve("run")));
        String why = FileProblems.why(below);
        assertTrue(why.startsWith(file.toString()) && !why.contains("Exception"), why);
        IOException missing = assertThrows(IOException.class, () -> Files.readAllBytes(dir.resolve("none")));
        assertEquals(dir.resolve("none") + " does not exist", FileProblems.why(missing));
        assertEquals("permission denied on /x", FileProblems.why(new AccessDeniedException("/x")));
        assertEquals("/x: read-only file system", FileProblems.why(new FileSystemException("/x", null, "Read-only file system")));
        assertEquals("a; b", FileProblems.why(new IOException("a\nb")));
        assertEquals("NoSuchFileException", FileProblems.why(new NoSuchFileException(null)));
    }

    @Test
    void anAtomicWriteThatCannotHappenNamesTheTargetAndWhy(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("missing/eval.json");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(target, "{}"));
        assertTrue(e instanceof NoSuchFileException, "the kind callers catch: " + e);
        assertEquals(target + ": cannot be written: its folder " + target.getParent() + " does not exist or is not a folder", e.getMessage());
        Path folderInTheWay = Files.createDirectories(dir.resolve("eval.json"));
        IOException onFolder = assertThrows(IOException.class, () -> AtomicFiles.writeString(folderInTheWay, "{}"));
        assertTrue(onFolder.getMessage().startsWith(folderInTheWay + ": cannot be written: "), onFolder.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }
}
