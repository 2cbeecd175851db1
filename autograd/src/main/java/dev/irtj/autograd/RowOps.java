package dev.irtj.autograd;

import dev.irtj.tensor.Tensor;

/** Fused ops over the last dim (softmax, layer norm, L2 normalization), each one Tensor op each way. */
final class RowOps {
    private RowOps() {
    }

    static Var softmax(Var x, double scale, boolean log) {
        Tensor y = x.data().softmax(scale, log);
        return Var.result(y, log ? "log_softmax" : "softmax",
                g -> new Tensor[] {y.softmaxBackward(g, scale, log)}, x);
    }

    static Var layerNorm(Var x, Var weight, Var bias, double eps) {
        Tensor xd = x.data();
        Tensor wd = weight == null ? null : weight.data();
        var r = xd.layerNormWithStatistics(wd, bias == null ? null : bias.data(), eps);
        Tensor mean = r.mean(), rstd = r.rstd();
        Backward backward = g -> {
            Tensor[] grads = xd.layerNormBackward(g, wd, mean, rstd, bias != null);
            if (weight == null) return bias == null ? new Tensor[] {grads[0]} : new Tensor[] {grads[0], grads[2]};
            return bias == null ? new Tensor[] {grads[0], grads[1]} : grads;
        };
        if (weight == null) {
            return bias == null ? Var.result(r.y(), "layer_norm", backward, x) : Var.result(r.y(), "layer_norm", backward, x, bias);
        }
        return bias == null ? Var.result(r.y(), "layer_norm", backward, x, weight)
                : Var.result(r.y(), "layer_norm", backward, x, weight, bias);
    }

    static Var l2Normalize(Var x, double eps) {
        Tensor xd = x.data();
        return Var.result(xd.l2Normalize(eps), "l2_normalize",
                g -> new Tensor[] {xd.l2NormalizeBackward(g, eps)}, x);
    }
}
