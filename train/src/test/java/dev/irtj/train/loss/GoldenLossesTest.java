package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Golden;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * losses.safetensors (PyTorch, float64): the contrastive loss against batch + memory and batch
 * only, KoLeo, and the total with λ, each with its gradient with respect to the raw
 * (pre-normalization) descriptors. β, λ and eps come from the file's metadata.
 *
 * <p>Tolerances |a − b| ≤ atol + rtol·|b|: F64 rtol 1e-10, atol 1e-12; F32 rtol 1e-5 with atol
 * 1e-6 for the loss values and atol 1e-5·max|grad| for gradients (sums over 20 references).
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
class GoldenLossesTest {

    @TestFactory
    List<DynamicTest> lossesMatchPyTorch() {
        return lossesMatchPyTorch(Device.CPU);
    }

    /** The same checks with the descriptors and the memory on cuda:0 (skipped without a GPU). */
    @TestFactory
    @ExtendWith(CudaDevice.class)
    List<DynamicTest> lossesMatchPyTorchOnTheGpu() {
        return lossesMatchPyTorch(CudaDevice.DEVICE);
    }

    private List<DynamicTest> lossesMatchPyTorch(Device device) {
        SafeTensors.File f = Golden.load("losses.safetensors");
        double beta = Double.parseDouble(f.meta("beta"));
        double lambda = Double.parseDouble(f.meta("lambda"));
        double eps = Double.parseDouble(f.meta("koleo_eps"));
        long[] labels = f.get("labels").toLongArray();
        long[] memLabels = f.get("memory_labels").toLongArray();
        ContrastiveLoss contrastive = new ContrastiveLoss(beta);
        KoLeoLoss koleo = new KoLeoLoss(eps);
        Map<String, Function<Var, Var>> losses = Map.of(
                "contrastive_xbm", e -> contrastive.apply(e, labels, f.get("memory").to(e.dtype()).to(device), memLabels),
                "contrastive_batch_only", e -> contrastive.apply(e, labels),
                "koleo", koleo::apply,
                "total", e -> contrastive.apply(e, labels, f.get("memory").to(e.dtype()).to(device), memLabels).add(koleo.apply(e).mul(lambda)));
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : List.of("contrastive_xbm", "contrastive_batch_only", "koleo", "total")) {
            for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                tests.add(DynamicTest.dynamicTest(name + " " + dtype + (device.equals(Device.CPU) ? "" : " " + device), () -> {
                    boolean f64 = dtype == DType.F64;
                    Var raw = Var.param(f.get("raw").to(dtype).to(device));
                    Var embeddings = raw.l2Normalize();
                    Golden.assertClose("embeddings", f.get("embeddings"), embeddings.data().to(DType.F64), f64 ? 1e-10 : 1e-5, f64 ? 1e-12 : 1e-6);
                    Var loss = losses.get(name).apply(embeddings);
                    Golden.assertClose("loss." + name, f.get("loss." + name), loss.data().reshape(1).to(DType.F64), f64 ? 1e-10 : 1e-5, f64 ? 1e-12 : 1e-6);
                    loss.backward();
                    Tensor expected = f.get("grad_raw." + name);
                    double max = 0;
                    for (double v : expected.toDoubleArray()) max = Math.max(max, Math.abs(v));
                    Golden.assertClose("grad_raw." + name, expected, raw.grad().to(DType.F64), f64 ? 1e-10 : 1e-5, f64 ? 1e-12 : 1e-5 * max);
                }));
            }
        }
        return tests;
    }
}
