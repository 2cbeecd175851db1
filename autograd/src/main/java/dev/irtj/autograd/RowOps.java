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

    /**
     * h = x + r and layer norm of h from one fused Tensor op; two nodes record it: h as an add
     * (its gradient passes to x and r) and the norm as {@link #layerNorm} of h, so h's gradient
     * is the sum of what the residual stream and the norm send back.
     */
    static ResidualNorm addLayerNorm(Var x, Var r, Var weight, Var bias, double eps) {
        Tensor wd = weight == null ? null : weight.data(), bd = bias == null ? null : bias.data();
        var out = x.data().addLayerNorm(r.data(), wd, bd, eps);
        Tensor hd = out.h(), mean = out.norm().mean(), rstd = out.norm().rstd();
        Var h = Var.result(hd, "add", g -> new Tensor[] {x.requiresGrad() ? g : null, r.requiresGrad() ? g : null}, x, r);
        Backward backward = g -> {
            Tensor[] grads = hd.layerNormBackward(g, wd, mean, rstd, bias != null);
            if (weight == null) return bias == null ? new Tensor[] {grads[0]} : new Tensor[] {grads[0], grads[2]};
            return bias == null ? new Tensor[] {grads[0], grads[1]} : grads;
        };
        Var y;
        if (weight == null) {
            y = bias == null ? Var.result(out.norm().y(), "layer_norm", backward, h) : Var.result(out.norm().y(), "layer_norm", backward, h, bias);
        } else {
            y = bias == null ? Var.result(out.norm().y(), "layer_norm", backward, h, weight)
                    : Var.result(out.norm().y(), "layer_norm", backward, h, weight, bias);
        }
        return new ResidualNorm(h, y);
    }

    static Var l2Normalize(Var x, double eps) {
        Tensor xd = x.data();
        return Var.result(xd.l2Normalize(eps), "l2_normalize",
                g -> new Tensor[] {xd.l2NormalizeBackward(g, eps)}, x);
    }
}
