package dev.irtj.train.optim;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Golden;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Map;

/**
 * adamw.safetensors: torch.optim.AdamW for as many steps as the file holds (param.K after
 * grad.K), settings from its metadata. Tolerances |a − b| ≤ atol + rtol·|b|: F64 rtol 1e-10,
 * atol 1e-12; F32 rtol 1e-5, atol 1e-6 (one rounding per update of order lr).
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
class GoldenAdamWTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32"})
    void followsPyTorch(DType dtype) {
        check(dtype, Device.CPU);
    }

    /** The same steps with parameter, gradients and moments on cuda:0 (skipped without a GPU). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32"})
    @ExtendWith(CudaDevice.class)
    void followsPyTorchOnTheGpu(DType dtype) {
        check(dtype, CudaDevice.DEVICE);
    }

    private static void check(DType dtype, Device device) {
        SafeTensors.File f = Golden.load("adamw.safetensors");
        double lr = Double.parseDouble(f.meta("lr")), b1 = Double.parseDouble(f.meta("beta1")), b2 = Double.parseDouble(f.meta("beta2"));
        double eps = Double.parseDouble(f.meta("eps")), wd = Double.parseDouble(f.meta("weight_decay"));
        Parameter p = new Parameter(f.get("param.0").to(dtype).copy().to(device));
        AdamW opt = new AdamW(Map.of("weight", p), lr, b1, b2, eps, wd);
        boolean f64 = dtype == DType.F64;
        for (int k = 1; f.tensors().containsKey("grad." + k); k++) {
            p.zeroGrad();
            accumulate(p, f.get("grad." + k).to(dtype).to(device));
            opt.step();
            Golden.assertClose("param." + k + " " + dtype, f.get("param." + k), p.data().to(DType.F64), f64 ? 1e-10 : 1e-5, f64 ? 1e-12 : 1e-6);
        }
    }

    /** Gives the parameter a gradient as backward would. */
    static void accumulate(Parameter p, Tensor grad) {
        dev.irtj.autograd.Var v = p.var();
        v.mul(dev.irtj.autograd.Var.constant(grad)).sum().backward();
    }
}
