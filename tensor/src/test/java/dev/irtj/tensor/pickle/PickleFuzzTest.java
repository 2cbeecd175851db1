package dev.irtj.tensor.pickle;

import dev.irtj.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random byte mutations of real pickles and torch.save archives (from Python, see
 * PickleFixtures): the unpickler and the archive reader must give a result or one
 * {@link PickleException} line naming the input; any other exception, a hang (5 s) or
 * allocating more than 64 MB plus 8x the input fails.
 */
class PickleFuzzTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Opcode bytes and length-ish values, so insertions make plausible but wrong pickles. */
    private static final int[] INTERESTING = {'(', ')', 't', 'R', 'b', 'c', 0x93, 0x94, 'h', 'q', 'u', 's', 'a', 'e', '.', 0x8c, 'X',
            0x8d, 0x8e, 0x95, 0x81, 0x85, 0x86, 0x87, 'Q', 0x8a, 0xff, 0x7f, 0x80, 0, '\n'};

    static byte[] mutate(byte[] in, int kind, Random r, int from, int to) {
        byte[] b = in.clone();
        int at = from + r.nextInt(Math.max(1, Math.min(to, b.length) - from));
        switch (kind) {
            case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
            case 1 -> b[at] = (byte) r.nextInt(256);
            case 2 -> b[at] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
            case 3 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
            case 4 -> {
                int n = 1 + r.nextInt(6);
                byte[] o = new byte[b.length + n];
                System.arraycopy(b, 0, o, 0, at);
                for (int i = 0; i < n; i++) o[at + i] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
                System.arraycopy(b, at, o, at + n, b.length - at);
                b = o;
            }
            default -> { // four bytes of a length replaced by a huge value
                for (int i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (byte) (i == 3 ? 0x7f : 0xff);
            }
        }
        return b;
    }

    private static void check(byte[] b, String name, ThrowingRead read) throws Exception {
        Path dir = Files.createTempDirectory("pickle-fuzz");
        Path f = dir.resolve(name);
        Files.write(f, b);
        long limit = (64L << 20) + 8L * b.length;
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                try {
                    read.read(f);
                } catch (PickleException e) {
                    String m = e.getMessage();
                    assertTrue(m != null && m.startsWith(f.toString()), "names the input: " + m);
                    assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
                } catch (Throwable t) {
                    fail(t.getClass().getName() + " instead of PickleException: " + t.getMessage(), t);
                }
                long used = THREADS.getCurrentThreadAllocatedBytes() - before;
                assertTrue(used < limit, "allocated " + used + " bytes for an input of " + b.length);
            });
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        }
    }

    @FunctionalInterface
    interface ThrowingRead {
        void read(Path f) throws Exception;
    }

    @Property(tries = 300, seed = "15015")
    void mutatedPicklesLoadOrFailInOneLine(@ForAll @IntRange(min = 0, max = 5) int kind, @ForAll @IntRange(min = 2, max = 5) int protocol,
                                           @ForAll long seed) throws Exception {
        if (protocol == 3) protocol = 2;
        Random r = new Random(seed);
        byte[] b = PickleFixtures.bytes("plain_p" + protocol + ".pkl");
        for (int i = 0, n = 1 + r.nextInt(3); i < n && b.length > 0; i++) b = mutate(b, kind, r, 0, b.length);
        check(b, "m.pkl", f -> Unpickler.load(Files.readAllBytes(f), f.toString(), AllowList.numpy(), null));
    }

    @Property(tries = 200, seed = "15016")
    void mutatedTorchArchivesLoadOrFailInOneLine(@ForAll @IntRange(min = 0, max = 5) int kind, @ForAll boolean inPickle,
                                                 @ForAll long seed) throws Exception {
        Random r = new Random(seed);
        byte[] b = PickleFixtures.bytes("views.pth");
        // data.pkl is the archive's first record: aim half the mutations at it, the rest anywhere
        // (storages, zip headers, the central directory at the end).
        for (int i = 0, n = 1 + r.nextInt(3); i < n && b.length > 0; i++) {
            b = inPickle ? mutate(b, kind, r, 30, 700) : mutate(b, kind, r, 0, b.length);
        }
        check(b, "m.pth", f -> {
            Map<String, Tensor> got = TorchArchive.readStateDict(f);
            for (Tensor t : got.values()) assertTrue(t.numel() >= 0);
        });
    }
}
