package dev.irtj.train.optim;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * clipGradNorm against the definition, computed here in F64: the norm is √Σ g² over all
 * gradients; above maxNorm every gradient is multiplied by maxNorm / (norm + 1e-6), otherwise
 * left bit for bit as it was. On the GPU (skipped without one) the same, with the norm computed
 * on the device.
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
class ClipGradNormTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32"})
    void followsTheDefinition(DType dtype) {
        check(dtype, Device.CPU);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32"})
    @ExtendWith(CudaDevice.class)
    void followsTheDefinitionOnTheGpu(DType dtype) {
        check(dtype, CudaDevice.DEVICE);
    }

    /** The GPU's computation (tensors only, no read of the norm), run on the CPU tensors. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32"})
    void theDevicePathFollowsTheDefinitionOnTheCpu(DType dtype) {
        check(dtype, Device.CPU, true);
    }

    private static void check(DType dtype, Device device) {
        check(dtype, device, false);
    }

    private static void check(DType dtype, Device device, boolean devicePath) {
        Rng rng = new Rng(7);
        Tensor[] grads = {Tensor.randn(rng, dtype, 5, 3), Tensor.randn(rng, dtype, 7), Tensor.randn(rng, dtype, 2, 2, 2)};
        double sq = 0;
        for (Tensor g : grads) for (double v : g.toDoubleArray()) sq += v * v;
        double norm = Math.sqrt(sq);
        double rtol = dtype == DType.F64 ? 1e-12 : 1e-6;
        // Above the norm: nothing changes, not even a bit.
        Parameter[] params = withGrads(grads, device);
        double got = clip(optimizer(params), norm * 2, device, devicePath);
        assertEquals(norm, got, rtol * norm, "norm returned without clipping");
        for (int i = 0; i < grads.length; i++) {
            assertArrayEquals(grads[i].toDoubleArray(), params[i].grad().toDoubleArray(), "gradient " + i + " without clipping");
        }
        // Below it: every gradient scaled by maxNorm / (norm + 1e-6).
        double max = norm / 3;
        params = withGrads(grads, device);
        got = clip(optimizer(params), max, device, devicePath);
        assertEquals(norm, got, rtol * norm, "norm returned before clipping");
        double scale = max / (norm + 1e-6);
        for (int i = 0; i < grads.length; i++) {
            double[] want = grads[i].toDoubleArray(), have = params[i].grad().toDoubleArray();
            for (int j = 0; j < want.length; j++) {
                assertEquals(want[j] * scale, have[j], rtol * Math.abs(want[j] * scale) + 1e-30, "gradient " + i + " element " + j);
            }
        }
    }

    private static double clip(AdamW opt, double maxNorm, Device device, boolean devicePath) {
        return (devicePath ? opt.clipOnDevice(maxNorm, device) : opt.clipGradNorm(maxNorm)).item();
    }

    private static Parameter[] withGrads(Tensor[] grads, Device device) {
        Parameter[] params = new Parameter[grads.length];
        for (int i = 0; i < grads.length; i++) {
            params[i] = new Parameter(Tensor.zeros(device, grads[i].dtype(), grads[i].shape()));
            GoldenAdamWTest.accumulate(params[i], grads[i].to(device));
        }
        return params;
    }

    private static AdamW optimizer(Parameter[] params) {
        Map<String, Parameter> named = new LinkedHashMap<>();
        for (int i = 0; i < params.length; i++) named.put("p" + i, params[i]);
        return new AdamW(named, 1e-3, 0.9, 0.999, 1e-8, 0);
    }
}
