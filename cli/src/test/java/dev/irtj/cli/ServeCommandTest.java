package dev.irtj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.irtj.index.LuceneIndex;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code irt serve}'s command line: its options and their refusals (the service itself is tested in serve). */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void helpListsTheServiceOptions() {
        CliTest.Result r = CliTest.irt("serve", "--help");
        assertEquals(0, r.code(), r.err());
        for (String flag : new String[] {"--index", "--host", "--port", "--max-upload-bytes", "--max-pixels", "--max-k", "--describe-concurrency",
                "--image-root", "--checkpoint", "--weights"}) {
            assertTrue(r.out().contains(flag), flag + " in:\n" + r.out());
        }
        assertTrue(r.out().contains("default: 127.0.0.1"), r.out());
    }

    @Test
    void badValuesAreUsageErrorsNamingTheFlag() {
        String index = dir.toString();
        String[][] cases = {
                {"--port", "70000", "--port must be 0 (any free port) to 65535, got 70000"},
                {"--port", "-1", "--port must be 0"},
                {"--max-pixels", "0", "--max-pixels must be at least 1, got 0"},
                {"--max-upload-bytes", "0", "--max-upload-bytes must be at least 1"},
                {"--max-k", "0", "--max-k must be at least 1"},
                {"--describe-concurrency", "0", "--describe-concurrency must be at least 1"},
                {"--host", " ", "--host must name an address"},
        };
        for (String[] c : cases) {
            CliTest.Result r = CliTest.irt("serve", "--index", index, c[0], c[1]);
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            assertTrue(r.err().startsWith("irt serve: " + c[2]), r.err());
        }
    }

    @Test
    void batchOptionsOfTheModelGroupAreRefusedNotIgnored() {
        for (String flag : new String[] {"--batch", "--workers"}) {
            CliTest.Result r = CliTest.irt("serve", "--index", dir.toString(), flag, "4");
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().startsWith("irt serve: " + flag + " does not apply to irt serve"), r.err());
        }
    }

    @Test
    void aMissingIndexFolderIsNamed() {
        Path missing = dir.resolve("no-index");
        CliTest.Result r = CliTest.irt("serve", "--index", missing.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("irt serve: --index " + missing + " is not a folder; build one with irt index"), r.err());
    }

    @Test
    void aFolderWithoutAnIndexIsNamed() {
        CliTest.Result r = CliTest.irt("serve", "--index", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("irt serve: --index " + dir + ": no index there"), r.err());
        CliTest.Result none = CliTest.irt("serve");
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().startsWith("irt serve: --index DIR is required"), none.err());
    }

    @Test
    void anIndexThatRecordsNoModelNeedsModelOptions() throws Exception {
        Path folder = dir.resolve("idx");
        try (LuceneIndex index = LuceneIndex.open(folder, new LuceneIndex.Identity("fp-test", "a test describer", "{}", 4), LuceneIndex.Options.defaults())) {
            index.commit();
        }
        CliTest.Result r = CliTest.irt("serve", "--index", folder.toString(), "--port", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("irt serve: the index in " + folder + " records no model to reopen; give the one it was built with"), r.err());
    }
}
