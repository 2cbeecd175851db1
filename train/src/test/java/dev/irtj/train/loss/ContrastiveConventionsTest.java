package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Golden;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.ContrastiveLoss.Reduction;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The three reductions of {@link ContrastiveLoss} against the PyTorch float64 references that
 * {@code train/src/test/python/loss_conventions.py} writes into {@code loss-conventions/} (see
 * that script for the upstream formulas). Every case file holds, for each reduction, the loss
 * of the batch alone ({@code batch}) and of the batch plus the file's memory ({@code memory},
 * where the case has one) and their gradients with respect to the raw descriptors; β and the
 * memory weight come from its metadata. Run on the default CPU backend and on the reference
 * backend (and on cuda:0 where there is a GPU).
 *
 * <p>Tolerances |a − b| ≤ atol + rtol·|b|: F64 rtol 1e-12, atol 1e-13 for values and gradients
 * (sums of at most a few hundred double products in another order than PyTorch's); F32 rtol
 * 1e-5 with atol 1e-6 for the loss and atol 1e-5·max|grad| for gradients. The F32 runs select
 * the same pairs as the reference because the script keeps every similarity at least 1e-4 from
 * β and from 1 − 1e-5, except in {@code memory_before}, where every similarity is exact.
 */
class ContrastiveConventionsTest {
    static final String FOLDER = "loss-conventions/";
    static final List<String> CASES = List.of("batch_only", "memory_after", "memory_weighted", "memory_before", "no_positives", "tiny");

    /** A reference file from the test resources; fails naming it when absent or unreadable. */
    static SafeTensors.File load(String name) {
        String resource = FOLDER + name + ".safetensors";
        URL url = ContrastiveConventionsTest.class.getClassLoader().getResource(resource);
        if (url == null) throw new IllegalStateException("test resource " + resource + " is missing; run train/src/test/python/loss_conventions.py");
        try {
            return SafeTensors.read(Path.of(url.toURI()));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read " + resource + ": " + ex.getMessage(), ex);
        } catch (URISyntaxException ex) {
            throw new IllegalStateException("cannot locate " + resource + " at " + url, ex);
        }
    }

    @TestFactory
    List<DynamicTest> matchPyTorchOnTheCpuBackends() {
        Set<String> backends = new LinkedHashSet<>();
        backends.add(Backends.forDevice(Device.CPU).name());
        backends.add("reference");
        List<DynamicTest> tests = new ArrayList<>();
        for (String backend : backends) {
            for (String name : CASES) {
                for (Reduction reduction : Reduction.values()) {
                    for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                        tests.add(DynamicTest.dynamicTest(name + " " + reduction + " " + dtype + " " + backend, () -> {
                            Backend previous = Backends.use(Backends.byName(backend));
                            try {
                                check(name, reduction, dtype, Device.CPU);
                            } finally {
                                Backends.use(previous);
                            }
                        }));
                    }
                }
            }
        }
        return tests;
    }

    /** The same checks with descriptors and memory on cuda:0 (skipped without a GPU). */
    @TestFactory
    @ExtendWith(CudaDevice.class)
    List<DynamicTest> matchPyTorchOnTheGpu() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : CASES) {
            for (Reduction reduction : Reduction.values()) {
                for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                    tests.add(DynamicTest.dynamicTest(name + " " + reduction + " " + dtype + " cuda",
                            () -> check(name, reduction, dtype, CudaDevice.DEVICE)));
                }
            }
        }
        return tests;
    }

    private static void check(String name, Reduction reduction, DType dtype, Device device) {
        SafeTensors.File f = load(name);
        ContrastiveLoss loss = new ContrastiveLoss(Double.parseDouble(f.meta("beta")), reduction, Double.parseDouble(f.meta("memory_weight")));
        long[] labels = f.get("labels").toLongArray();
        Tensor memory = f.get("memory");
        long[] memoryLabels = f.get("memory_labels").toLongArray();
        String r = reduction.name().toLowerCase(Locale.ROOT);
        for (String variant : memory.shape(0) > 0 ? new String[] {"batch", "memory"} : new String[] {"batch"}) {
            boolean f64 = dtype == DType.F64;
            Var raw = Var.param(f.get("raw").to(dtype).to(device));
            Var embeddings = raw.l2Normalize();
            Var value = variant.equals("batch")
                    ? loss.apply(embeddings, labels)
                    : loss.apply(embeddings, labels, memory.to(dtype).to(device), memoryLabels);
            String what = name + " loss." + r + "." + variant + " " + dtype;
            Golden.assertClose(what, f.get("loss." + r + "." + variant), value.data().reshape(1).to(DType.F64), f64 ? 1e-12 : 1e-5, f64 ? 1e-13 : 1e-6);
            value.backward();
            Tensor expected = f.get("grad_raw." + r + "." + variant);
            double max = 0;
            for (double v : expected.toDoubleArray()) max = Math.max(max, Math.abs(v));
            Golden.assertClose(name + " grad_raw." + r + "." + variant + " " + dtype, expected, raw.grad().to(DType.F64),
                    f64 ? 1e-12 : 1e-5, f64 ? 1e-13 : 1e-5 * max);
        }
    }
}
