package dev.irtj.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {

    /** A run that dies before writing anything (a bad flag found late, an OutOfMemoryError) leaves no folder holding only .lock. */
    @Test
    void aFolderTheLockMadeAndNothingElseWroteIsRemovedOnClose(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("runs/new");
        try (RunLock lock = RunLock.acquire(run)) {
            assertTrue(Files.isRegularFile(run.resolve(RunLock.FILE)));
        }
        assertFalse(Files.exists(run), "an empty run folder was left behind");
    }

    @Test
    void aFolderWithTheRunsFilesOrOneThatExistedBeforeIsKept(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("written");
        try (RunLock lock = RunLock.acquire(run)) {
            Files.writeString(run.resolve("config.json"), "{}");
        }
        assertTrue(Files.isRegularFile(run.resolve("config.json")));

        Path existing = Files.createDirectories(dir.resolve("existing"));
        try (RunLock lock = RunLock.acquire(existing)) {
            // nothing written
        }
        assertTrue(Files.isDirectory(existing), "a folder the user made must not be removed");
    }
}
