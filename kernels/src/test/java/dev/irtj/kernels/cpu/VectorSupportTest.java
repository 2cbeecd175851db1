package dev.irtj.kernels.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without the Vector API module, or without C2, the CPU backend steps aside with one log line
 * saying what is missing and which backend runs instead (checked in child JVMs).
 */
class VectorSupportTest {

    static String probe(String... jvmFlags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmFlags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BackendProbe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out;
    }

    @Test
    void withoutTheModuleTheReferenceBackendRunsAndTheLogSaysWhy() throws Exception {
        String out = probe();
        assertTrue(out.contains("chosen=reference"), out);
        assertTrue(out.contains("jdk.incubator.vector") && out.contains("using 'reference' instead"), out);
    }

    @Test
    void withoutC2TheLogSaysSo() throws Exception {
        String out = probe("--add-modules", "jdk.incubator.vector", "-XX:TieredStopAtLevel=1");
        assertTrue(out.contains("chosen=reference"), out);
        assertTrue(out.contains("C2 is off"), out);
    }

    @Test
    void withEverythingTheVectorBackendRuns() throws Exception {
        String out = probe("--add-modules", "jdk.incubator.vector");
        assertTrue(out.contains("chosen=cpu"), out);
    }
}
