package dev.irtj.natives;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The committed fatbins are current: every kernel family's sources hash to what build.sh
 * recorded (always checked, no nvcc needed), and, where nvcc is installed, every family compiles
 * for sm_80 and sm_90 with warnings as errors and, with the recorded nvcc version, to the
 * committed bytes exactly (skipped without nvcc).
 */
class NativeKernelsTest {
    private static final Path SOURCES = Path.of("src/cuda");
    private static final String RESOURCES = "/dev/irtj/native/";

    static List<Path> families() throws IOException {
        try (Stream<Path> s = Files.list(SOURCES)) {
            return s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
    }

    static Properties manifest() throws IOException {
        Properties p = new Properties();
        try (InputStream in = NativeKernelsTest.class.getResourceAsStream(RESOURCES + "kernels.properties")) {
            assertNotNull(in, "kernels.properties missing: run native/build.sh");
            p.load(in);
        }
        return p;
    }

    private static String name(Path cu) {
        String f = cu.getFileName().toString();
        return f.substring(0, f.length() - 3);
    }

    /** SHA-256 of the .cu followed by every .cuh in name order, as build.sh computes it. */
    private static String sourceHash(Path cu) throws IOException, NoSuchAlgorithmException {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(Files.readAllBytes(cu));
        List<Path> headers;
        try (Stream<Path> s = Files.list(SOURCES)) {
            headers = s.filter(p -> p.toString().endsWith(".cuh")).sorted().toList();
        }
        for (Path h : headers) md.update(Files.readAllBytes(h));
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void everyFamilyHasACurrentFatbin() throws Exception {
        Properties manifest = manifest();
        List<Path> cus = families();
        assertFalse(cus.isEmpty(), "no kernel sources in " + SOURCES.toAbsolutePath());
        List<String> stale = new ArrayList<>();
        for (Path cu : cus) {
            String recorded = manifest.getProperty(name(cu) + ".sha256");
            if (!sourceHash(cu).equals(recorded)) stale.add(cu.getFileName().toString());
            try (InputStream in = getClass().getResourceAsStream(RESOURCES + name(cu) + ".fatbin")) {
                assertNotNull(in, name(cu) + ".fatbin is not packaged");
            }
        }
        if (!stale.isEmpty()) fail("kernel sources changed since the fatbins were built: " + stale + "; run native/build.sh and commit its output");
        long recordedFamilies = manifest.stringPropertyNames().stream().filter(k -> k.endsWith(".sha256")).count();
        assertEquals(cus.size(), recordedFamilies, "kernels.properties lists a family that no longer has a source");
    }

    @Test
    void everyFamilyCompilesForSm80AndSm90() throws Exception {
        String nvcc = System.getenv().getOrDefault("NVCC", "nvcc");
        String version = run(List.of(nvcc, "--version"), Path.of("."));
        Assumptions.assumeTrue(version != null, "nvcc not installed: compile check skipped");
        String[] lines = version.strip().split("\n");
        boolean sameCompiler = manifest().getProperty("nvcc", "").equals(lines[lines.length - 1].strip());
        Path out = Files.createTempDirectory("irtj-nvcc");
        List<Process> procs = new ArrayList<>();
        List<Path> cus = families();
        for (Path cu : cus) {
            List<String> cmd = List.of(nvcc, "-std=c++17", "-O3", "-Werror", "all-warnings",
                    "-gencode", "arch=compute_80,code=sm_80", "-gencode", "arch=compute_90,code=sm_90",
                    "-gencode", "arch=compute_80,code=compute_80", "-fatbin",
                    "-o", out.resolve(name(cu) + ".fatbin").toString(), cu.toString());
            procs.add(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }
        for (int i = 0; i < cus.size(); i++) {
            Process p = procs.get(i);
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES)) fail("nvcc timed out on " + cus.get(i));
            if (p.exitValue() != 0) fail("nvcc failed on " + cus.get(i) + ":\n" + log);
            if (sameCompiler) {
                try (InputStream in = getClass().getResourceAsStream(RESOURCES + name(cus.get(i)) + ".fatbin")) {
                    assertNotNull(in);
                    assertArrayEquals(Files.readAllBytes(out.resolve(name(cus.get(i)) + ".fatbin")), in.readAllBytes(),
                            name(cus.get(i)) + ".fatbin differs from a fresh build: run native/build.sh");
                }
            }
        }
    }

    /** Stdout of a command, or null when it cannot be started. */
    private static String run(List<String> cmd, Path dir) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? s : null;
        } catch (IOException e) {
            return null;
        }
    }
}
