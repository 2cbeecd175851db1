package dev.irtj.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The launcher's archive workload: runs every index path without printing anything on stdout
 * (the launcher discards its output, but a failure there would leave every command without the
 * archive), and takes no arguments. CliProcessTest covers the archive made and mapped by the
 * real launcher.
 */
class ClassArchiveTest {
    @Test
    void theWorkloadRunsAndPrintsNothing() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            ClassArchive.main(new String[0]);
        } finally {
            System.setOut(out);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void argumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ClassArchive.main(new String[] {"x"}));
    }
}
