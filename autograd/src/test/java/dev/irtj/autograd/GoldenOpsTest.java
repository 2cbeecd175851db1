package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Golden;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every op of ops.safetensors (PyTorch, float64): forward and the gradient of every input, in
 * F64 and in F32, on the backend chosen for this run ({@code -Dirtj.backend}). Ops, inputs and
 * shapes come from the file; settings (eps, p) from its metadata.
 *
 * <p>Tolerances, |a − b| ≤ atol + rtol·|b|: F64 rtol 1e-10 with atol 1e-12 (our reference
 * computes in double; the floor covers entries that are zero up to rounding); F32 rtol 1e-4 with
 * atol 1e-5 (single-precision rounding of sums of a few dozen terms near zero cannot be held to
 * a relative bound).
 */
public class GoldenOpsTest {
    static final double F64_RTOL = 1e-10, F64_ATOL = 1e-12;
    static final double F32_RTOL = 1e-4, F32_ATOL = 1e-5;

    private static Map<String, Function<Var[], Var>> definitions(SafeTensors.File file) {
        double lnEps = Double.parseDouble(file.meta("layernorm_eps"));
        double l2Eps = Double.parseDouble(file.meta("l2_eps"));
        double gemP = Double.parseDouble(file.meta("gem_p"));
        double gemEps = Double.parseDouble(file.meta("gem_eps"));
        int permOut = file.get("permute0213.out").shape(1);
        return Map.ofEntries(
                Map.entry("matmul", in -> in[0].matmul(in[1])),
                Map.entry("matmul_batched", in -> in[0].matmul(in[1])),
                Map.entry("matmul_bt", in -> in[0].matmul(in[1].mT())),
                Map.entry("linear", in -> in[0].linear(in[1], in[2])),
                Map.entry("softmax", in -> in[0].softmax()),
                Map.entry("log_softmax", in -> in[0].logSoftmax()),
                Map.entry("layernorm", in -> in[0].layerNorm(in[1], in[2], lnEps)),
                Map.entry("gelu", in -> in[0].gelu()),
                Map.entry("gelu_tanh", in -> in[0].geluTanh()),
                Map.entry("l2normalize", in -> in[0].l2Normalize(l2Eps)),
                Map.entry("sum_lastdim", in -> in[0].sum(-1, false)),
                Map.entry("mean_dim1", in -> in[0].mean(1, false)),
                Map.entry("max_dim1", in -> in[0].max(1, false)),
                Map.entry("gem_p3_dim1", in -> in[0].clamp(gemEps, Double.POSITIVE_INFINITY).pow(gemP).mean(1, false).pow(1 / gemP)),
                Map.entry("exp", in -> in[0].exp()),
                Map.entry("log", in -> in[0].log()),
                Map.entry("sqrt", in -> in[0].sqrt()),
                Map.entry("relu", in -> in[0].relu()),
                Map.entry("transpose12", in -> in[0].transpose(1, 2)),
                // The reference expands a new dim 2 and swaps dims 1 and 2: [B, N, D] → [B, E, N, D].
                Map.entry("permute0213", in -> in[0].unsqueeze(2)
                        .expand(in[0].shape(0), in[0].shape(1), permOut, in[0].shape(2)).permute(0, 2, 1, 3)),
                Map.entry("broadcast_add", in -> in[0].add(in[1])),
                Map.entry("broadcast_mul", in -> in[0].mul(in[1])),
                Map.entry("cat_dim1", in -> Var.cat(List.of(in[0], in[1]), 1)),
                Map.entry("patch_conv", in -> in[0].conv2dPatch(in[1], in[2])),
                Map.entry("attention", in -> in[0].matmul(in[1].mT()).softmax(1 / Math.sqrt(in[0].shape(-1))).matmul(in[2])));
    }

    @TestFactory
    public List<DynamicTest> everyGoldenOpMatchesInF64AndF32() {
        return everyGoldenOpMatchesInF64AndF32(Device.CPU);
    }

    /** The same tests with inputs and upstream gradients on {@code device} (kernels re-runs them on cuda). */
    public List<DynamicTest> everyGoldenOpMatchesInF64AndF32(Device device) {
        SafeTensors.File file = Golden.load("ops.safetensors");
        Map<String, Function<Var[], Var>> defs = definitions(file);
        TreeSet<String> ops = new TreeSet<>();
        for (String name : file.tensors().keySet()) {
            if (name.endsWith(".out")) ops.add(name.substring(0, name.length() - 4));
        }
        if (ops.isEmpty()) fail("no '<op>.out' tensors in " + Golden.dir().resolve("ops.safetensors"));
        List<DynamicTest> tests = new ArrayList<>();
        for (String op : ops) {
            for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                tests.add(DynamicTest.dynamicTest(op + " " + dtype, () -> {
                    Function<Var[], Var> fn = defs.get(op);
                    if (fn == null) fail("golden op '" + op + "' has no definition in this test");
                    checkOp(file, op, fn, dtype, device);
                }));
            }
        }
        return tests;
    }

    private static void checkOp(SafeTensors.File file, String op, Function<Var[], Var> fn, DType dtype, Device device) {
        double rtol = dtype == DType.F64 ? F64_RTOL : F32_RTOL, atol = dtype == DType.F64 ? F64_ATOL : F32_ATOL;
        List<Var> inputs = new ArrayList<>();
        for (int i = 0; file.tensors().containsKey(op + ".in" + i); i++) {
            inputs.add(Var.param(file.get(op + ".in" + i).to(dtype).to(device)));
        }
        Var out = fn.apply(inputs.toArray(new Var[0]));
        Golden.assertClose(op + ".out (" + dtype + ")", file.get(op + ".out"), out.data().to(DType.F64), rtol, atol);
        out.backward(file.get(op + ".grad_out").to(dtype).to(device));
        for (int i = 0; i < inputs.size(); i++) {
            Tensor g = inputs.get(i).grad();
            if (g == null) fail(op + ": no gradient reached input " + i);
            Golden.assertClose(op + ".grad_in" + i + " (" + dtype + ")", file.get(op + ".grad_in" + i), g.to(DType.F64), rtol, atol);
        }
    }
}
