package dev.irtj.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference files load with the project's own reader, and the {@link Golden} helpers work. */
class GoldenFilesTest {

    @Test
    void opsFileHoldsInputsOutputsAndGradients() {
        SafeTensors.File ops = Golden.load("ops.safetensors");
        assertFalse(ops.meta("layernorm_eps").isBlank());
        Tensor a = ops.get("matmul.in0"), b = ops.get("matmul.in1"), out = ops.get("matmul.out");
        assertEquals(DType.F64, a.dtype());
        assertEquals(2, a.rank());
        assertEquals(a.shape(1), b.shape(0));
        assertArrayEquals(new int[] {a.shape(0), b.shape(1)}, out.shape());
        assertArrayEquals(out.shape(), ops.get("matmul.grad_out").shape());
        assertArrayEquals(a.shape(), ops.get("matmul.grad_in0").shape());
        // The values are read correctly if the reference backend reproduces PyTorch's product.
        Golden.assertClose("matmul.out", out, a.matmul(b), 1e-12, 1e-12);
    }

    @Test
    void vitFileHoldsTimmNamedParameters() {
        SafeTensors.File vit = Golden.load("vit.safetensors");
        int dim = Integer.parseInt(vit.meta("embed_dim"));
        int img = Integer.parseInt(vit.meta("img_size")), patch = Integer.parseInt(vit.meta("patch_size"));
        int tokens = (img / patch) * (img / patch) + 1;
        assertArrayEquals(new int[] {1, 1, dim}, vit.get("param.cls_token").shape());
        assertArrayEquals(new int[] {1, tokens, dim}, vit.get("param.pos_embed").shape());
        Tensor input = vit.get("input");
        assertArrayEquals(new int[] {input.shape(0), tokens, dim}, vit.get("out.tokens").shape());
        for (int d = 0; d < Integer.parseInt(vit.meta("depth")); d++) {
            assertArrayEquals(new int[] {3 * dim, dim}, vit.get("param.blocks." + d + ".attn.qkv.weight").shape());
        }
    }

    @Test
    void lossesFileHoldsI64Labels() {
        SafeTensors.File losses = Golden.load("losses.safetensors");
        assertEquals(0.5, Double.parseDouble(losses.meta("beta")));
        Tensor labels = losses.get("labels");
        assertEquals(DType.I64, labels.dtype());
        assertEquals(losses.get("raw").shape(0), labels.shape(0));
        assertEquals(DType.I64, losses.get("memory_labels").dtype());
        assertEquals(1, losses.get("loss.total").numel());
        Golden.assertClose("embeddings", losses.get("embeddings"), losses.get("raw").l2Normalize(), 1e-12, 1e-14);
    }

    @Test
    void adamwFileHoldsThreeSteps() {
        SafeTensors.File adamw = Golden.load("adamw.safetensors");
        assertTrue(Double.parseDouble(adamw.meta("lr")) > 0);
        int[] shape = adamw.get("param.0").shape();
        for (int k = 1; k <= 3; k++) {
            assertArrayEquals(shape, adamw.get("grad." + k).shape());
            assertArrayEquals(shape, adamw.get("param." + k).shape());
        }
    }

    @Test
    void dirHoldsTheReadme() {
        assertTrue(Files.isRegularFile(Golden.dir().resolve("README.md")), Golden.dir().toString());
    }

    @Test
    void missingFileNamesTheFolder() {
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> Golden.load("nope.safetensors"));
        assertTrue(ex.getMessage().contains("nope.safetensors not found in " + Golden.dir()), ex.getMessage());
        assertTrue(ex.getMessage().contains("ops.safetensors"), ex.getMessage());
    }

    /** What other modules see: the files inside the tensor test-jar, extracted on first use. */
    @Test
    void filesInsideAJarAreExtracted(@TempDir Path tmp) throws IOException {
        Path jar = tmp.resolve("irtj-tensor-tests.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (String name : new String[] {"ops.safetensors", "adamw.safetensors"}) {
                out.putNextEntry(new JarEntry("golden/" + name));
                Files.copy(Golden.dir().resolve(name), (OutputStream) out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("dev/irtj/Other.class"));
            out.closeEntry();
        }
        URL marker = new URL("jar:" + jar.toUri() + "!/golden/ops.safetensors");
        Path dir = Golden.locate(marker);
        assertTrue(Files.isRegularFile(dir.resolve("adamw.safetensors")));
        assertFalse(Files.exists(dir.resolve("Other.class")));
        SafeTensors.File ops = SafeTensors.read(dir.resolve("ops.safetensors"));
        Golden.assertClose("matmul.in0", Golden.load("ops.safetensors").get("matmul.in0"), ops.get("matmul.in0"), 0, 0);
    }

    // ---- assertClose --------------------------------------------------------------------------

    @Test
    void assertCloseAcceptsValuesWithinTolerance() {
        Tensor expected = Tensor.of(new double[] {1, 100, -3, Double.NaN, Double.POSITIVE_INFINITY}, 5);
        Tensor actual = Tensor.of(new float[] {1.001f, 100.05f, -3f, Float.NaN, Float.POSITIVE_INFINITY}, 5);
        Golden.assertClose("ok", expected, actual, 1e-3, 1e-3);
    }

    @Test
    void assertCloseReportsTheWorstElement() {
        Tensor expected = Tensor.of(new double[] {0, 1, 2, 3, 4, 5}, 2, 3);
        Tensor actual = Tensor.of(new double[] {0, 1.5, 2, 3, 4.1, 5}, 2, 3);
        AssertionError err = assertThrows(AssertionError.class, () -> Golden.assertClose("layernorm.out", expected, actual, 0.01, 0));
        String msg = err.getMessage();
        assertTrue(msg.startsWith("layernorm.out: 2 of 6 elements outside |a - b| <= atol + rtol*|b| (rtol 0.0100, atol 0.00)"), msg);
        assertTrue(msg.contains("worst at [0, 1]: expected 1.0000000000000000, actual 1.5000000000000000"), msg);
        assertTrue(msg.contains("> 0.0100"), msg);
    }

    @Test
    void assertCloseFailsOnNaNShapeAndInfinityMismatches() {
        Tensor two = Tensor.of(new double[] {1, 2}, 2);
        AssertionError err = assertThrows(AssertionError.class,
                () -> Golden.assertClose("x", two, Tensor.of(new double[] {1, 2}, 1, 2), 1, 1));
        assertEquals("x: shape [1, 2], expected [2]", err.getMessage());
        assertThrows(AssertionError.class, () -> Golden.assertClose("x", two, Tensor.of(new double[] {Double.NaN, 2}, 2), 1, 1));
        assertThrows(AssertionError.class, () -> Golden.assertClose("x", Tensor.of(new double[] {Double.POSITIVE_INFINITY}, 1),
                Tensor.of(new double[] {Double.NEGATIVE_INFINITY}, 1), 1, 1));
        err = assertThrows(AssertionError.class, () -> Golden.assertClose("x", two, Tensor.of(new double[] {1, 2 + 1e-9}, 2), 0, 0));
        assertTrue(err.getMessage().contains("worst at [1]"), err.getMessage());
    }

    @Test
    void unflattenIsRowMajor() {
        assertArrayEquals(new int[] {1, 2, 3}, Golden.unflatten(1 * 12 + 2 * 4 + 3, new int[] {2, 3, 4}));
        assertArrayEquals(new int[0], Golden.unflatten(0, new int[0]));
    }
}
