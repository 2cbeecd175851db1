package dev.irtj.index;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An indexing process killed with SIGKILL leaves its last commit searchable, and a rerun
 * describes exactly the images that were not committed: the index then holds every file once.
 */
class CatalogueKillTest {
    static final int CLASSES = 4, PER_CLASS = 10, FILES = CLASSES * PER_CLASS;

    static Process start(Path root, Path index, long sleepMillis, Path log) throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CatalogueProcess.class.getName(),
                root.toString(), index.toString(), Long.toString(sleepMillis), "4");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void killedDuringIndexingThenRerunHoldsEveryFileOnce(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("photos"), index = dir.resolve("index");
        Set<String> expected = new TreeSet<>();
        for (Path f : Images.folder(root, CLASSES, PER_CLASS)) expected.add(root.relativize(f).toString().replace('\\', '/'));

        // 150 ms per image: 6 s for the whole folder, so the kill lands mid-run.
        Process first = start(root, index, 150, dir.resolve("first.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        // One read-only instance, opened as soon as the index exists, follows the other
        // process's commits without reopening.
        LuceneIndex follower = null;
        Set<Long> counts = new TreeSet<>();
        long seen = 0;
        try {
            while (first.isAlive() && System.nanoTime() < deadline && seen < 12) {
                Thread.sleep(20);
                if (follower == null) follower = openIfThere(index);
                if (follower != null) {
                    seen = follower.info().count();
                    counts.add(seen);
                }
            }
            assertTrue(first.isAlive(), "the run ended before it could be killed: " + Files.readString(dir.resolve("first.log")));
            first.destroyForcibly();   // SIGKILL on Unix
            first.waitFor();
        } finally {
            if (follower != null) follower.close();
        }
        assertTrue(counts.stream().filter(c -> c > 0).count() >= 2, "a reader of this process saw the other's commits: " + counts);

        long afterKill;
        try (LuceneIndex reader = LuceneIndex.openReadOnly(index)) {
            afterKill = reader.info().count();
            assertEquals(afterKill, reader.stamps().size());
            for (VectorIndex.Hit h : reader.search(new FakeDescriber().describe(root.resolve("class0/img0.png")), 1)) {
                assertEquals("class0/img0.png", h.image().id());   // the last commit is searchable
            }
        }
        assertTrue(afterKill >= 12 && afterKill < FILES, "killed after " + afterKill + " of " + FILES + " images were committed");

        Process rerun = start(root, index, 0, dir.resolve("rerun.log"));
        assertTrue(rerun.waitFor(120, TimeUnit.SECONDS), "rerun timed out");
        String log = Files.readString(dir.resolve("rerun.log"));
        assertEquals(0, rerun.exitValue(), log);
        assertTrue(log.contains("described " + (FILES - afterKill) + " skipped 0"), "the rerun describes only what was not committed: " + log);

        try (LuceneIndex reader = LuceneIndex.openReadOnly(index)) {
            assertEquals(FILES, reader.info().count(), "every file once (live documents)");
            assertEquals(expected, new TreeSet<>(reader.stamps().keySet()));
        }
    }

    /** A read-only instance, or null before the writer's first commit. */
    private static LuceneIndex openIfThere(Path index) {
        try {
            return LuceneIndex.openReadOnly(index);
        } catch (IOException e) {
            return null;   // not created yet
        }
    }
}
