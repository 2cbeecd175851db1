package dev.irtj.autograd;

import dev.irtj.tensor.PatchGeometry;
import dev.irtj.tensor.Tensor;

/** Matrix products: matmul (batched, broadcast), linear, and the patch convolution built on them. */
final class LinearAlgebra {
    private LinearAlgebra() {
    }

    /** torch.matmul: 1-D operands are promoted, leading batch dims broadcast. */
    static Var matmul(Var a, Var b) {
        if (a.rank() == 1 || b.rank() == 1) {
            boolean aVec = a.rank() == 1, bVec = b.rank() == 1;
            Var c = matmul(aVec ? a.unsqueeze(0) : a, bVec ? b.unsqueeze(1) : b);
            if (bVec) c = c.squeeze(-1);
            return aVec ? c.squeeze(bVec ? -1 : -2) : c;
        }
        Tensor ad = a.data(), bd = b.data();
        Tensor out = ad.matmul(bd);
        return Var.result(out, "matmul", g -> new Tensor[] {
            // dA = dC·Bᵀ and dB = Aᵀ·dC, each summed over the batch dims its operand was broadcast along.
            a.requiresGrad() ? Grads.sumToShape(g.gemm(false, bd, true), ad.shape()) : null,
            b.requiresGrad() ? Grads.sumToShape(ad.gemm(true, g, false), bd.shape()) : null}, a, b);
    }

    static Var linear(Var x, Var weight, Var bias) {
        if (x.rank() == 1) return linear(x.unsqueeze(0), weight, bias).squeeze(0);
        Tensor xd = x.data(), wd = weight.data();
        Tensor out = xd.linear(wd, bias == null ? null : bias.data());
        Backward backward = g -> {
            int n = wd.shape(0), k = wd.shape(1);
            Tensor g2 = g.reshape(-1, n);
            Tensor gx = x.requiresGrad() ? g.gemm(false, wd, false) : null;
            Tensor gw = weight.requiresGrad() ? g2.gemm(true, xd.reshape(-1, k), false) : null;
            Tensor gb = bias != null && bias.requiresGrad() ? g2.sum(0, false) : null;
            return new Tensor[] {gx, gw, gb};
        };
        return bias == null ? Var.result(out, "linear", backward, x, weight)
                : Var.result(out, "linear", backward, x, weight, bias);
    }

    /**
     * gelu(x·Wᵀ + b) through {@link Tensor#linearGelu}: the node keeps z = x·Wᵀ (the product
     * without the bias, saved rather than recomputed: recomputing costs a GEMM, saving costs the
     * same [rows × n] the unfused pair kept for GELU's input), and its backward turns the
     * upstream gradient into dz and db in one pass ({@link Tensor#linearGeluBackward}) before the
     * two products of {@link #linear}'s backward.
     */
    static Var linearGelu(Var x, Var weight, Var bias) {
        if (bias == null) throw new IllegalArgumentException("linearGelu needs a bias; use linear(weight, null).gelu() without one");
        if (x.rank() == 1) return linearGelu(x.unsqueeze(0), weight, bias).squeeze(0);
        Tensor xd = x.data(), wd = weight.data(), bd = bias.data();
        var r = xd.linearGelu(wd, bd);
        Tensor z = r.z();
        return Var.result(r.y(), "linear_gelu", g -> {
            int n = wd.shape(0), k = wd.shape(1);
            Tensor[] dzDb = z.linearGeluBackward(bd, g);
            Tensor dz = dzDb[0], dz2 = dz.reshape(-1, n);
            Tensor gx = x.requiresGrad() ? dz.gemm(false, wd, false) : null;
            Tensor gw = weight.requiresGrad() ? dz2.gemm(true, xd.reshape(-1, k), false) : null;
            return new Tensor[] {gx, gw, bias.requiresGrad() ? dzDb[1] : null};
        }, x, weight, bias);
    }

    /**
     * Stride-equals-kernel convolution as reshape + GEMM, composed of differentiable views and
     * {@link #linear}, so its backward needs no code of its own.
     */
    static Var conv2dPatch(Var x, Var weight, Var bias) {
        PatchGeometry geo = PatchGeometry.of(x.shape(), weight.shape());
        Var rows = x.reshape(geo.batch(), geo.channels(), geo.gridH(), geo.patchH(), geo.gridW(), geo.patchW())
                .permute(0, 2, 4, 1, 3, 5)
                .reshape(geo.batch() * geo.gridH() * geo.gridW(), geo.channels() * geo.patchH() * geo.patchW());
        Var out = rows.linear(weight.reshape(geo.outChannels(), -1), bias);
        return out.reshape(geo.batch(), geo.gridH(), geo.gridW(), geo.outChannels()).permute(0, 3, 1, 2);
    }
}
