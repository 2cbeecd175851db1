package dev.irtj.vit;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.pickle.PickleFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --weights x.pth}: PyTorch checkpoints written by torch 1.13 (scripts/make-pickle-fixtures.py)
 * load through the same path as safetensors, tensor for tensor.
 */
class PthWeightsTest {
    static final ViTConfig TINY = ViTConfig.of(32, 8, 3, 16, 1, 2, 4);

    private static Map<String, Tensor> expected(String prefix) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        SafeTensors.read(PickleFixtures.path("expected.safetensors")).tensors().forEach((k, v) -> {
            if (k.startsWith(prefix + ".")) out.put(k.substring(prefix.length() + 1), v);
        });
        return out;
    }

    private static void assertParametersAre(Map<String, Tensor> want, VisionTransformer m) {
        Map<String, Tensor> got = m.stateDict();
        int compared = 0;
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            if (e.getKey().startsWith("head")) {
                assertFalse(got.containsKey(e.getKey()), "heads are ignored");
                continue;
            }
            assertArrayEquals(e.getValue().shape(), got.get(e.getKey()).shape(), e.getKey());
            assertArrayEquals(e.getValue().toFloatArray(), got.get(e.getKey()).toFloatArray(), 0f, e.getKey());
            compared++;
        }
        assertEquals(got.size(), compared, "every parameter came from the file");
    }

    private static float[] descriptor(VisionTransformer m) {
        Tensor x = Tensor.randn(new Rng(3), DType.F32, 2, 3, 32, 32);
        try (NoGrad ignored = NoGrad.enter()) {
            m.eval();
            return m.descriptor(Var.constant(x), Pooling.CLS).data().toFloatArray();
        }
    }

    @Test
    void plainStateDictsInF32F16AndBf16LoadTensorForTensor() throws IOException {
        for (String tag : List.of("f32", "f16", "bf16")) {
            VisionTransformer m = TimmCheckpoint.load(PickleFixtures.path("vit_" + tag + ".pth"), TINY, DType.F32);
            assertFalse(m.distilled());
            assertParametersAre(expected(tag), m);
        }
    }

    @Test
    void deitReleaseFormAndItsDistilledVariantLoad(@TempDir Path dir) throws IOException {
        VisionTransformer m = TimmCheckpoint.load(PickleFixtures.path("vit_model_f32.pth"), TINY, DType.F32);
        assertParametersAre(expected("f32"), m);
        // The same weights as safetensors give the same model, bit for bit.
        Path st = dir.resolve("same.safetensors");
        SafeTensors.write(st, expected("f32"), Map.of());
        assertArrayEquals(descriptor(TimmCheckpoint.load(st, TINY, DType.F32)), descriptor(m));

        VisionTransformer d = TimmCheckpoint.load(PickleFixtures.path("deit_distilled_model.pth"), TINY, DType.F32);
        assertTrue(d.distilled());
        assertParametersAre(expected("distilled"), d);
    }

    @Test
    void posEmbedOfAPthIsResampledForAnotherImageSize() throws IOException {
        VisionTransformer m = TimmCheckpoint.load(PickleFixtures.path("vit_f32.pth"), TINY.withImgSize(48), DType.F32);
        assertArrayEquals(new int[] {1, 1 + 36, 16}, m.stateDict().get("pos_embed").shape());
    }

    @Test
    void nonFiniteWeightsInAPthAreRefusedByName() {
        Path f = PickleFixtures.path("vit_nonfinite.pth");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimmCheckpoint.load(f, TINY, DType.F32));
        assertTrue(e.getMessage().contains("norm.bias holds NaN at element 3"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void aFileThatIsNeitherSaysSoInOneLine(@TempDir Path dir) throws IOException {
        Path legacy = PickleFixtures.path("legacy.pth");
        IOException e = assertThrows(IOException.class, () -> TimmCheckpoint.load(legacy, TINY, DType.F32));
        assertOneLine(e, legacy, "legacy checkpoint format (torch.save before PyTorch 1.6");

        Path text = dir.resolve("notes.pth");
        Files.writeString(text, "these are not weights, just some text that is long enough");
        e = assertThrows(IOException.class, () -> TimmCheckpoint.load(text, TINY, DType.F32));
        assertOneLine(e, text, "is neither safetensors (an 8-byte header length, then a JSON header) nor a PyTorch checkpoint");
        assertFalse(e.getMessage().contains("header length 8"), "not the old misleading message: " + e.getMessage());

        Path empty = dir.resolve("empty.pth");
        Files.write(empty, new byte[0]);
        e = assertThrows(IOException.class, () -> TimmCheckpoint.load(empty, TINY, DType.F32));
        assertOneLine(e, empty, "its 0 bytes start with");

        // A zip that torch.save did not write (no data.pkl).
        Path zip = dir.resolve("other.zip");
        try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new java.util.zip.ZipEntry("readme.txt"));
            z.write("hello".getBytes());
            z.closeEntry();
        }
        e = assertThrows(IOException.class, () -> TimmCheckpoint.load(zip, TINY, DType.F32));
        assertOneLine(e, zip, "zip archive without a PREFIX/data.pkl record");
    }

    private static void assertOneLine(Exception e, Path file, String expect) {
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString()), "names the file: " + m);
        assertTrue(m.contains(expect), "says '" + expect + "': " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
    }
}
