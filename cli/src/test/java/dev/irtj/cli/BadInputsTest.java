package dev.irtj.cli;

import dev.irtj.retrieval.DescriptorShards;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rows of issue 11's table seen from the command line: a decompression bomb of a PNG, weights full of NaN. */
class BadInputsTest {
    private static final String[] SHAPE = {"--img-size", "16", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2"};

    private static String[] embed(Path weights, Path images, Path out) {
        String[] a = {"embed", "--weights", weights.toString(), "--images", images.toString(), "--out", out.toString()};
        String[] o = java.util.Arrays.copyOf(a, a.length + SHAPE.length);
        System.arraycopy(SHAPE, 0, o, a.length, SHAPE.length);
        return o;
    }

    /** A valid PNG of 30000x30000 pixels claimed in 70 bytes: what took 4.6 GB and the whole run before the header check. */
    static byte[] hugePng() throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY), "png", png);
        byte[] b = png.toByteArray();
        ByteBuffer.wrap(b).putInt(16, 30000).putInt(20, 30000);
        CRC32 crc = new CRC32();
        crc.update(b, 12, 17);
        ByteBuffer.wrap(b).putInt(29, (int) crc.getValue());
        return b;
    }

    @Test
    void embedSkipsAnImageOverThePixelLimitAndEmbedsTheRest(@TempDir Path dir) throws IOException {
        Path images = CliTest.imageFolder(dir.resolve("images"), 2, 2);
        Path huge = Files.write(images.resolve("class0/huge.png"), hugePng());
        Path weights = dir.resolve("w.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), new Rng(4), DType.F32), weights);
        long t0 = System.nanoTime();
        CliTest.Result r = irt(embed(weights, images, dir.resolve("desc")));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("huge.png") && r.err().contains("30000x30000"), r.err());
        DescriptorShards.Contents c = DescriptorShards.read(dir.resolve("desc"));
        assertEquals(4, c.paths().size(), "the other images are embedded");
        assertTrue(c.failed().containsKey(huge.toString()) && c.failed().get(huge.toString()).contains("over the limit"), c.failed().toString());
        assertTrue(seconds < 30, "refused from the header, not decoded: " + seconds + " s");
    }

    @Test
    void weightsHoldingNaNAreRefusedNamingTheTensorBeforeAnyImage(@TempDir Path dir) throws IOException {
        Path images = CliTest.imageFolder(dir.resolve("images"), 2, 2);
        Path weights = dir.resolve("nan.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), new Rng(4), DType.F32), weights);
        Map<String, Tensor> tensors = new LinkedHashMap<>(SafeTensors.read(weights).tensors());
        Tensor head = tensors.get("blocks.0.mlp.fc1.weight");
        float[] v = head.toFloatArray();
        java.util.Arrays.fill(v, Float.NaN);
        tensors.put("blocks.0.mlp.fc1.weight", Tensor.of(v, head.shape()));
        SafeTensors.write(weights, tensors, Map.of());
        Path out = dir.resolve("desc");
        CliTest.Result r = irt(embed(weights, images, out));
        assertTrue(r.code() != 0, r.err());
        assertTrue(r.err().contains("tensor blocks.0.mlp.fc1.weight holds NaN") && r.err().contains("allowNonFiniteWeights"), r.err());
        assertTrue(!Files.exists(out.resolve(DescriptorShards.MANIFEST)), "no descriptors of a broken model");
    }
}
