package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random mutations of a valid safetensors file (issue 11, item 6): {@link SafeTensors#read} must
 * return a result or throw its documented {@link SafeTensors.FormatException} with one line naming
 * the file; any other exception, a hang, or allocating far more than the file justifies fails.
 */
class SafeTensorsFuzzTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes that keep a JSON header almost valid, so insertions reach the checks past parsing. */
    private static final String ALPHABET = "{}[]\",:0123456789e- \u0000";

    private static byte[] valid() throws Exception {
        Path dir = Files.createTempDirectory("st-fuzz-src");
        Path f = dir.resolve("ok.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("a", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("b.weight", Tensor.of(new float[] {7, 8}, 2));
        SafeTensors.write(f, t, Map.of("step", "3"));
        byte[] b = Files.readAllBytes(f);
        Files.delete(f);
        Files.delete(dir);
        return b;
    }

    /** One meaningful mutation chosen by {@code kind}: flips, replacements, cuts, insertions, huge lengths. */
    static byte[] mutate(byte[] in, int kind, Random r) {
        byte[] b = in.clone();
        switch (kind) {
            case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            case 2 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
            case 3 -> {
                int at = r.nextInt(b.length + 1), n = 1 + r.nextInt(8);
                byte[] o = new byte[b.length + n];
                System.arraycopy(b, 0, o, 0, at);
                for (int i = 0; i < n; i++) o[at + i] = (byte) ALPHABET.charAt(r.nextInt(ALPHABET.length()));
                System.arraycopy(b, at, o, at + n, b.length - at);
                b = o;
            }
            case 4 -> {
                int at = r.nextInt(b.length), n = Math.min(b.length - at, 1 + r.nextInt(8));
                byte[] o = new byte[b.length - n];
                System.arraycopy(b, 0, o, 0, at);
                System.arraycopy(b, at + n, o, at, b.length - at - n);
                b = o;
            }
            case 5 -> { // the header length set to a huge, negative or off-by-some value
                long[] choices = {Long.MAX_VALUE, -1L, Integer.MAX_VALUE, 1L << 40, 0, getLen(b) + 1, getLen(b) - 1};
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, choices[r.nextInt(choices.length)]);
            }
            default -> { // a digit in the JSON header replaced by a huge or negative number
                String s = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
                int at = s.indexOf(']', 8 + r.nextInt(Math.max(1, (int) Math.min(getLen(b), b.length - 8))));
                if (at > 0) {
                    String[] big = {"9223372036854775807", "-1", "2147483648", "1e300", "\"x\"", "null"};
                    s = s.substring(0, at) + "," + big[r.nextInt(big.length)] + s.substring(at);
                    b = s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                }
            }
        }
        return b;
    }

    private static long getLen(byte[] b) {
        return b.length < 8 ? 0 : ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    @Property(tries = 400, seed = "11611")
    void mutatedFilesReadOrFailWithTheDocumentedError(@ForAll @IntRange(min = 0, max = 6) int kind,
                                                      @ForAll long seed) throws Exception {
        Random r = new Random(seed);
        byte[] b = valid();
        int rounds = 1 + r.nextInt(3);
        for (int i = 0; i < rounds && b.length > 0; i++) b = mutate(b, kind, r);
        Path dir = Files.createTempDirectory("st-fuzz");
        Path f = dir.resolve("m.safetensors");
        Files.write(f, b);
        final int fileBytes = b.length;
        long budget = 64L << 20; // 64 MB plus 8x the file below
        budget += 8L * fileBytes;
        final long limit = budget;
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                try {
                    SafeTensors.File got = SafeTensors.read(f);
                    for (Map.Entry<String, Tensor> e : got.tensors().entrySet()) assertTrue(e.getValue().numel() >= 0);
                } catch (SafeTensors.FormatException e) {
                    String m = e.getMessage();
                    assertTrue(m != null && m.contains(f.toString()), "message names the file: " + m);
                    assertFalse(m.contains("\n"), "one line: " + m);
                    assertEquals(f, e.file());
                } catch (Throwable t) {
                    fail("kind " + kind + ": " + t.getClass().getName() + " instead of FormatException: " + t.getMessage(), t);
                }
                long used = THREADS.getCurrentThreadAllocatedBytes() - before;
                assertTrue(used < limit, "allocated " + used + " bytes for a file of " + fileBytes);
            });
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        }
    }
}
