package dev.irtj.vit;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Golden;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * vit.safetensors (a small ViT computed by PyTorch in float64, timm names): the model built from
 * the file's metadata and loaded with its {@code param.*} tensors must reproduce the tokens
 * after the final norm, the four poolings, the descriptor, and the gradient of every parameter
 * and of the input — in F64 and F32, on the reference and the Vector API backends, and on the CUDA backend where
 * a GPU is present.
 *
 * <p>Tolerances |a − b| ≤ atol + rtol·|b|: F64 rtol 1e-9, atol 1e-11 (two blocks of double
 * arithmetic in a different order than PyTorch's); F32 rtol 1e-4 with atol 1e-5 for forward
 * values and atol 1e-4·max|grad| for gradients, which sum thousands of single-precision products.
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
class GoldenViTTest {
    private static final String FILE = "vit.safetensors";

    static ViTConfig configOf(SafeTensors.File f) {
        return new ViTConfig(
                Integer.parseInt(f.meta("img_size")), Integer.parseInt(f.meta("patch_size")), Integer.parseInt(f.meta("in_chans")),
                Integer.parseInt(f.meta("embed_dim")), Integer.parseInt(f.meta("depth")), Integer.parseInt(f.meta("num_heads")),
                Double.parseDouble(f.meta("mlp_ratio")), Boolean.parseBoolean(f.meta("qkv_bias").toLowerCase()), 0.0,
                Double.parseDouble(f.meta("layernorm_eps")));
    }

    @TestFactory
    List<DynamicTest> matchesPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String backend : new String[] {"reference", "cpu"}) {
            for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                tests.add(DynamicTest.dynamicTest(backend + " " + dtype, () -> {
                    Backend previous = Backends.use(Backends.byName(backend));
                    try {
                        check(dtype);
                    } finally {
                        Backends.use(previous);
                    }
                }));
            }
        }
        return tests;
    }

    /** The same checks with the model, input and upstream gradient on cuda:0 (skipped without a GPU). */
    @TestFactory
    @ExtendWith(CudaDevice.class)
    List<DynamicTest> matchesPyTorchOnTheGpu() {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            tests.add(DynamicTest.dynamicTest("cuda " + dtype, () -> check(dtype, CudaDevice.DEVICE)));
        }
        return tests;
    }

    private static void check(DType dtype) {
        check(dtype, Device.CPU);
    }

    private static void check(DType dtype, Device device) {
        SafeTensors.File f = Golden.load(FILE);
        ViTConfig config = configOf(f);
        VisionTransformer model = new VisionTransformer(config, new Rng(0), dtype);
        model.eval();
        Map<String, Tensor> weights = new LinkedHashMap<>();
        f.tensors().forEach((name, t) -> {
            if (name.startsWith("param.")) weights.put(name.substring("param.".length()), t);
        });
        model.loadStateDict(weights);
        model.to(device);
        assertEquals(weights.size(), model.namedParameters().size(), "every model parameter comes from the file");

        boolean f64 = dtype == DType.F64;
        double rtol = f64 ? 1e-9 : 1e-4, atol = f64 ? 1e-11 : 1e-5;
        Var input = Var.param(f.get("input").to(dtype).to(device));
        Var tokens = model.tokens(input);
        Golden.assertClose("tokens", f.get("out.tokens"), tokens.data().to(DType.F64), rtol, atol);
        for (Pooling p : Pooling.TABLE_9) {
            Tensor pooled = p.apply(tokens, model.prefixTokens()).data();
            Golden.assertClose("pool " + p, f.get("out.pool_" + p.name().toLowerCase()), pooled.to(DType.F64), rtol, atol);
        }
        Var descriptor = Pooling.CLS.apply(tokens, model.prefixTokens()).l2Normalize();
        Golden.assertClose("descriptor", f.get("out.descriptor"), descriptor.data().to(DType.F64), rtol, atol);

        descriptor.backward(f.get("grad_out.descriptor").to(dtype).to(device));
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor expected = f.get("grad." + e.getKey());
            Golden.assertClose("grad." + e.getKey() + " " + dtype, expected, e.getValue().grad().to(DType.F64), rtol, gradAtol(f64, expected));
        }
        Tensor expectedInput = f.get("grad.input");
        Golden.assertClose("grad.input " + dtype, expectedInput, input.grad().to(DType.F64), rtol, gradAtol(f64, expectedInput));
    }

    private static double gradAtol(boolean f64, Tensor expected) {
        if (f64) return 1e-11;
        double max = 0;
        for (double v : expected.toDoubleArray()) max = Math.max(max, Math.abs(v));
        return 1e-4 * max;
    }
}
