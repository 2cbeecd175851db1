package dev.irtj.cli;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code irt bench}'s memory report and the files of bench/vit-vs-djl.sh's equivalence check. */
class BenchCommandTest {
    private static final String[] TINY = {"--img-size", "8", "--patch", "4", "--dim", "8", "--depth", "2", "--heads", "2", "--in-chans", "1"};

    private static String[] args(String... more) {
        String[] a = new String[1 + TINY.length + more.length];
        a[0] = "bench";
        System.arraycopy(TINY, 0, a, 1, TINY.length);
        System.arraycopy(more, 0, a, 1 + TINY.length, more.length);
        return a;
    }

    @Test
    void timingLineKeepsItsKeysAndAddsThePeakMemory() {
        CliTest.Result r = CliTest.irt(args("--batch", "3", "--warmup", "0", "--reps", "1", "--device", "cpu"));
        assertEquals(0, r.code(), r.err());
        for (String key : new String[]{"backend", "threads", "batch", "forward_img_s", "fwd_bwd_img_s", "train_step_img_s", "device", "tf32"}) {
            assertTrue(r.out().contains(key + "="), key + " in " + r.out());
        }
        // Images per CPU second: positive; Infinity where a repetition of this tiny model took
        // less than the process CPU clock's tick (seen on a loaded machine), never NaN or negative.
        for (String key : new String[]{"forward_img_cpu_s", "fwd_bwd_img_cpu_s", "train_step_img_cpu_s"}) {
            double v = number(r.out(), key);
            assertTrue(v > 0, key + " = " + v);
        }
        double heap = number(r.out(), "peak_heap_mb"), rss = number(r.out(), "peak_rss_mb");
        assertTrue(heap > 0, "peak heap " + heap);
        // The resident set is read where /proc/self/status exists, else -1. It is not compared
        // with the heap: G1 counts whole eden regions and handed-out TLABs as used, pages never
        // touched are not resident, so used heap can exceed the peak RSS (a CI run saw 1943 MB of
        // heap against 1927 MB resident in this shared test JVM).
        if (Files.isReadable(Path.of("/proc/self/status"))) assertTrue(rss > 0, "peak RSS " + rss + " MB");
        else assertTrue(rss <= 0, "no /proc/self/status, yet peak RSS " + rss + " MB");
    }

    @Test
    void checkFilesReproduceThemselves(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("check");
        CliTest.Result r = CliTest.irt(args("--batch", "2", "--device", "cpu", "--check-out", out.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("check_out="), r.out());

        // A fresh model from the written weights, on the written input, gives the written outputs
        // and gradients: the files are all the DJL side needs to redo the same computation.
        ViTConfig c = ViTConfig.of(8, 4, 1, 8, 2, 2, 4);
        VisionTransformer vit = TimmCheckpoint.load(out.resolve("weights.safetensors"), c, DType.F32);
        SafeTensors.File input = SafeTensors.read(out.resolve("input.safetensors"));
        Tensor x = input.get("x"), w = input.get("w");
        assertArrayEquals(new int[]{2, 1, 8, 8}, x.shape());
        assertArrayEquals(new int[]{2, 8}, w.shape());
        vit.train(true);
        Var d = vit.descriptor(Var.constant(x), Pooling.CLS);
        d.mul(Var.constant(w)).sum().backward();
        SafeTensors.File written = SafeTensors.read(out.resolve("irtj.safetensors"));
        assertArrayEquals(d.data().toFloatArray(), written.get("out").toFloatArray(), 1e-6f);
        Map<String, Tensor> weights = SafeTensors.read(out.resolve("weights.safetensors")).tensors();
        assertEquals(weights.size() + 1, written.tensors().size(), "out plus one gradient per weight: " + written.tensors().keySet());
        vit.namedParameters().forEach((name, p) -> {
            Tensor g = written.get("grad." + name);
            assertArrayEquals(weights.get(name).shape(), g.shape(), name);
            assertArrayEquals(p.grad().toFloatArray(), g.toFloatArray(), 1e-6f, name);
        });
        // The weighted loss reaches the first block (a plain sum would not: see writeCheck).
        float[] qkv = written.get("grad.blocks.0.attn.qkv.weight").toFloatArray();
        double max = 0;
        for (float v : qkv) max = Math.max(max, Math.abs(v));
        assertTrue(max > 1e-4, "the first block's qkv weight gets a real gradient: max |g| = " + max);
    }

    @Test
    void checkOutOnAFileIsRefused(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("taken"), "x");
        CliTest.Result r = CliTest.irt(args("--check-out", file.toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--check-out " + file + " exists and is not a directory"), r.err());
    }

    @Test
    void peakHeapSeesALargeAllocation() {
        System.gc();   // so that the starting figure is (nearly) the live heap, which the array then adds to
        try (PeakMemory m = new PeakMemory()) {
            long before = m.peakHeapBytes();
            byte[] big = new byte[64 << 20];
            big[big.length - 1] = 1;
            m.sample();
            assertTrue(m.peakHeapBytes() >= before + (56L << 20), "peak " + m.peakHeapBytes() + " after 64 MiB on top of " + before);
            assertEquals(1, big[big.length - 1]);
        }
    }

    private static double number(String line, String key) {
        Matcher m = Pattern.compile(" " + key + "=([-0-9.]+|Infinity)").matcher(line);
        assertTrue(m.find(), key + " in " + line);
        return Double.parseDouble(m.group(1));
    }
}
