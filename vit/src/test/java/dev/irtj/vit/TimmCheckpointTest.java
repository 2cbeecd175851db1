package dev.irtj.vit;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading timm-format ViT checkpoints: heads ignored, distilled tokens, resampled pos_embed, clear errors. */
class TimmCheckpointTest {
    static final ViTConfig SMALL = ViTConfig.of(32, 8, 3, 32, 2, 2, 2);

    static Map<String, Tensor> timmState(VisionTransformer m, boolean withHead) {
        Map<String, Tensor> s = new LinkedHashMap<>(m.stateDict());
        if (withHead) {
            s.put("head.weight", Tensor.zeros(DType.F32, 10, SMALL.embedDim()));
            s.put("head.bias", Tensor.zeros(DType.F32, 10));
        }
        return s;
    }

    static float[] descriptor(VisionTransformer m, Tensor x) {
        try (NoGrad ignored = NoGrad.enter()) {
            m.eval();
            return m.descriptor(Var.constant(x), Pooling.CLS).data().toFloatArray();
        }
    }

    @Test
    void roundTripWithHeadIgnoredGivesIdenticalOutputs(@TempDir Path dir) throws IOException {
        VisionTransformer original = new VisionTransformer(SMALL, new Rng(1), DType.F32);
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, timmState(original, true), Map.of("format", "pt"));
        VisionTransformer loaded = TimmCheckpoint.load(file, SMALL, DType.F32);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 2, 3, 32, 32);
        assertArrayEquals(descriptor(original, x), descriptor(loaded, x));
    }

    @Test
    void halfPrecisionCheckpointsLoad(@TempDir Path dir) throws IOException {
        VisionTransformer original = new VisionTransformer(SMALL, new Rng(1), DType.F32);
        Path file = dir.resolve("bf16.safetensors");
        writeBf16(file, original.stateDict());
        VisionTransformer loaded = TimmCheckpoint.load(file, SMALL, DType.F32);
        float[] a = original.stateDict().get("blocks.0.attn.qkv.weight").toFloatArray(), b = loaded.stateDict().get("blocks.0.attn.qkv.weight").toFloatArray();
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], Math.abs(a[i]) * 1e-2 + 1e-6, "bf16 keeps ~3 significant digits");
    }

    /** A safetensors file with every tensor in BF16 (the top half of each float). */
    static void writeBf16(Path file, Map<String, Tensor> state) throws IOException {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            long bytes = 2L * e.getValue().numel();
            if (header.length() > 1) header.append(',');
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"BF16\",\"shape\":").append(java.util.Arrays.toString(e.getValue().shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (Tensor t : state.values()) for (float v : t.toFloatArray()) buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        Files.write(file, buf.array());
    }

    @Test
    void distilledCheckpointsLoadAndUseTheClassToken(@TempDir Path dir) throws IOException {
        VisionTransformer distilled = new VisionTransformer(SMALL, true, new Rng(1), DType.F32);
        assertEquals(2, distilled.prefixTokens());
        Map<String, Tensor> s = timmState(distilled, true);
        s.put("head_dist.weight", Tensor.zeros(DType.F32, 10, SMALL.embedDim()));
        s.put("head_dist.bias", Tensor.zeros(DType.F32, 10));
        Path file = dir.resolve("distilled.safetensors");
        SafeTensors.write(file, s, Map.of());
        VisionTransformer loaded = TimmCheckpoint.load(file, SMALL, DType.F32);
        assertTrue(loaded.distilled());
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 1, 3, 32, 32);
        assertArrayEquals(descriptor(distilled, x), descriptor(loaded, x));
    }

    @Test
    void posEmbedIsResampledForAnotherImageSize(@TempDir Path dir) throws IOException {
        VisionTransformer original = new VisionTransformer(SMALL, new Rng(1), DType.F32);
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, timmState(original, false), Map.of());
        VisionTransformer bigger = TimmCheckpoint.load(file, SMALL.withImgSize(48), DType.F32);
        Tensor pos = bigger.stateDict().get("pos_embed");
        assertArrayEquals(new int[] {1, 1 + 36, 32}, pos.shape());
        assertArrayEquals(original.stateDict().get("pos_embed").narrow(1, 0, 1).toFloatArray(), pos.narrow(1, 0, 1).toFloatArray(), "class token position kept");
        // A constant grid stays constant under bicubic resampling.
        Tensor constant = Tensor.full(0.25, DType.F32, 1, 17, 4);
        float[] r = TimmCheckpoint.resamplePosEmbed(constant, 1, 6, "test").toFloatArray();
        for (float v : r) assertEquals(0.25f, v, 1e-6f);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 1, 3, 48, 48);
        assertEquals(32, descriptor(bigger, x).length);
    }

    @Test
    void everyProblemIsListedWithNamesAndShapes(@TempDir Path dir) throws IOException {
        VisionTransformer m = new VisionTransformer(SMALL, new Rng(1), DType.F32);
        Map<String, Tensor> s = timmState(m, true);
        s.remove("norm.bias");
        s.put("blocks.1.mlp.fc1.weight", Tensor.zeros(DType.F32, 3, 3));
        s.put("fc_norm.weight", Tensor.zeros(DType.F32, 32));
        Path file = dir.resolve("bad.safetensors");
        SafeTensors.write(file, s, Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimmCheckpoint.load(file, SMALL, DType.F32));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()), msg);
        assertTrue(msg.contains("missing norm.bias [32]"), msg);
        assertTrue(msg.contains("blocks.1.mlp.fc1.weight: file has [3, 3], model expects [64, 32]"), msg);
        assertTrue(msg.contains("unexpected fc_norm.weight [32]"), msg);
        assertTrue(!msg.contains("head.weight"), "head.* is ignored: " + msg);
    }

    @Test
    void truncatedCheckpointNamesTheFile(@TempDir Path dir) throws IOException {
        VisionTransformer m = new VisionTransformer(SMALL, new Rng(1), DType.F32);
        Path file = dir.resolve("cut.safetensors");
        SafeTensors.write(file, timmState(m, false), Map.of());
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        IOException e = assertThrows(IOException.class, () -> TimmCheckpoint.load(file, SMALL, DType.F32));
        assertTrue(e.getMessage().contains("cut.safetensors"), e.getMessage());
    }
}
