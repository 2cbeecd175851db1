package dev.irtj.tensor;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the fuzz suite's properties share (issue 11, item 6): mutations of valid inputs and the
 * bounds every read must stay within, a time limit and an allocation budget, so that a hang or a
 * header that makes a reader allocate gigabytes fails the test instead of the build machine.
 */
public final class Fuzzing {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Tokens that keep JSON or a text index almost valid, so mutations reach the checks past parsing. */
    public static final String[] TOKENS = {"{", "}", "[", "]", "\"", ",", ":", "0", "7", "-", "e", " ", "\n", "\t", "\r", "\u0000",
            "null", "true", "\"x\"", "9223372036854775807", "-9223372036854775808", "2147483648", "-1", "1e308", "1e999", "NaN",
            "0.5", "../", "/", "\\", "\u00e9", "\ud83d\ude00", "\uFEFF", "\u2028"};

    /** Field values that readers have got wrong: a NUL in a path, paths leading out, numbers past long, empty quotes. */
    public static final String[] HOSTILE = {"a\u0000b", "../../../etc/passwd", "/abs/olute", "99999999999999999999", "-9223372036854775808",
            "\"\"", "\u00ff\u00fe", "id_", "1.5"};

    private Fuzzing() {
    }

    /** The body that reads one mutated input; it may throw only what its test expects. */
    @FunctionalInterface
    public interface Read {
        void run() throws Throwable;
    }

    /**
     * Runs {@code read} on another thread, failing when it takes longer than {@code time} or
     * allocates more than {@code maxAllocated} bytes (counted on its thread: what the reader asked
     * for, not what the heap happened to hold).
     */
    public static void bounded(Duration time, long maxAllocated, Read read) {
        assertTimeoutPreemptively(time, () -> {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            try {
                read.run();
            } catch (Throwable t) {
                fail(t.getClass().getName() + ": " + t.getMessage(), t);
            }
            long used = THREADS.getCurrentThreadAllocatedBytes() - before;
            assertTrue(used < maxAllocated, "allocated " + used + " bytes, the budget is " + maxAllocated);
        });
    }

    /** A documented error's message: one line (no line break) that contains {@code names}. */
    public static void assertOneLineNaming(String message, String names) {
        assertTrue(message != null && message.contains(names), "the message names " + names + ": " + message);
        assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
    }

    /** One to three byte-level mutations: bit flips, replacements, cuts, insertions, deletions, repeated spans. */
    public static byte[] mutate(byte[] in, Random r) {
        byte[] b = in.clone();
        int rounds = 1 + r.nextInt(3);
        for (int i = 0; i < rounds && b.length > 0; i++) b = mutateOnce(b, r);
        return b;
    }

    private static byte[] mutateOnce(byte[] b, Random r) {
        switch (r.nextInt(6)) {
            case 0 -> {
                b = b.clone();
                b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                return b;
            }
            case 1 -> {
                b = b.clone();
                b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                return b;
            }
            case 2 -> {
                return java.util.Arrays.copyOf(b, r.nextInt(b.length));
            }
            case 3 -> {
                byte[] token = TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
                return splice(b, r.nextInt(b.length + 1), 0, token);
            }
            case 4 -> {
                int at = r.nextInt(b.length);
                return splice(b, at, Math.min(b.length - at, 1 + r.nextInt(8)), new byte[0]);
            }
            default -> { // a span repeated: more records than the header says, a doubled line
                int at = r.nextInt(b.length), n = Math.min(b.length - at, 1 + r.nextInt(64));
                return splice(b, at, 0, java.util.Arrays.copyOfRange(b, at, at + n));
            }
        }
    }

    /** {@code b} with {@code remove} bytes at {@code at} replaced by {@code insert}. */
    public static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] o = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, o, 0, at);
        System.arraycopy(insert, 0, o, at, insert.length);
        System.arraycopy(b, at + remove, o, at + insert.length, b.length - at - remove);
        return o;
    }

    /**
     * One to three text-level mutations of {@code text}: a token of {@link #TOKENS} inserted, a
     * character deleted or replaced, a number swapped for a huge or negative one, a line doubled
     * or dropped, a field replaced by one of {@link #HOSTILE}. Returned as UTF-8 bytes, with a stray non-UTF-8 byte now and then.
     */
    public static byte[] mutateText(String text, Random r) {
        String s = text;
        int rounds = 1 + r.nextInt(3);
        for (int i = 0; i < rounds; i++) {
            int at = s.isEmpty() ? 0 : r.nextInt(s.length());
            switch (r.nextInt(9)) {
                case 0 -> s = s.substring(0, at) + TOKENS[r.nextInt(TOKENS.length)] + s.substring(at);
                case 7, 8 -> { // one field (a run of non-blank characters) replaced by a hostile value
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("[^\\s]+").matcher(s);
                    java.util.List<int[]> fields = new java.util.ArrayList<>();
                    while (m.find()) fields.add(new int[] {m.start(), m.end()});
                    if (!fields.isEmpty()) {
                        int[] f = fields.get(r.nextInt(fields.size()));
                        s = s.substring(0, f[0]) + HOSTILE[r.nextInt(HOSTILE.length)] + s.substring(f[1]);
                    }
                }
                case 1 -> s = s.isEmpty() ? s : s.substring(0, at) + s.substring(Math.min(s.length(), at + 1 + r.nextInt(4)));
                case 2 -> s = s.isEmpty() ? s : s.substring(0, at) + (char) (32 + r.nextInt(95)) + s.substring(at + 1);
                case 3 -> { // the next number replaced
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?[0-9]+(\\.[0-9]+)?").matcher(s);
                    if (m.find(at) || m.find(0)) {
                        String[] big = {"9223372036854775807", "99999999999999999999", "-1", "0", "2147483647", "1e9", "-0", "3.5"};
                        s = s.substring(0, m.start()) + big[r.nextInt(big.length)] + s.substring(m.end());
                    }
                }
                case 4 -> { // a line doubled
                    String[] lines = s.split("\n", -1);
                    int l = r.nextInt(lines.length);
                    StringBuilder sb = new StringBuilder();
                    for (int k = 0; k < lines.length; k++) {
                        sb.append(lines[k]).append(k == lines.length - 1 ? "" : "\n");
                        if (k == l) sb.append(k == lines.length - 1 ? "\n" : "").append(lines[k]).append(k == lines.length - 1 ? "" : "\n");
                    }
                    s = sb.toString();
                }
                case 5 -> { // a line dropped
                    String[] lines = s.split("\n", -1);
                    int l = r.nextInt(lines.length);
                    StringBuilder sb = new StringBuilder();
                    for (int k = 0; k < lines.length; k++) if (k != l) sb.append(sb.length() == 0 ? "" : "\n").append(lines[k]);
                    s = sb.toString();
                }
                default -> s = s.substring(0, at); // cut short
            }
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0 && r.nextInt(8) == 0) b[r.nextInt(b.length)] = (byte) (0x80 + r.nextInt(0x80)); // not UTF-8
        return b;
    }
}
