package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;

import static dev.irtj.autograd.Grads.sumToShape;

/** Elementwise ops and their backward passes; broadcast gradients are summed back to input shapes. */
final class Elementwise {
    private Elementwise() {
    }

    static Var unary(Var x, UnaryOp op, double p0, double p1) {
        Tensor xd = x.data();
        Tensor out = xd.apply(op, p0, p1);
        return Var.result(out, op.name().toLowerCase(), g -> new Tensor[] {xd.applyBackward(op, g, p0, p1)}, x);
    }

    static Var affine(Var x, double scale, double shift) {
        return unary(x, UnaryOp.AFFINE, scale, shift);
    }

    static Var add(Var a, Var b) {
        int[] sa = a.shape(), sb = b.shape();
        return Var.result(a.data().add(b.data()), "add",
                g -> new Tensor[] {a.requiresGrad() ? sumToShape(g, sa) : null, b.requiresGrad() ? sumToShape(g, sb) : null}, a, b);
    }

    static Var sub(Var a, Var b) {
        int[] sa = a.shape(), sb = b.shape();
        return Var.result(a.data().sub(b.data()), "sub",
                g -> new Tensor[] {a.requiresGrad() ? sumToShape(g, sa) : null, b.requiresGrad() ? sumToShape(g.neg(), sb) : null}, a, b);
    }

    static Var mul(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        return Var.result(ad.mul(bd), "mul",
                g -> new Tensor[] {
                    a.requiresGrad() ? sumToShape(g.mul(bd), ad.shape()) : null,
                    b.requiresGrad() ? sumToShape(g.mul(ad), bd.shape()) : null}, a, b);
    }

    static Var div(Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        return Var.result(ad.div(bd), "div",
                g -> new Tensor[] {
                    a.requiresGrad() ? sumToShape(g.div(bd), ad.shape()) : null,
                    b.requiresGrad() ? sumToShape(g.mul(ad).div(bd.mul(bd)).neg(), bd.shape()) : null}, a, b);
    }

    /** Ties send half of the gradient to each side, as PyTorch does. */
    static Var maximum(Var a, Var b) {
        return extreme(a, b, true);
    }

    static Var minimum(Var a, Var b) {
        return extreme(a, b, false);
    }

    private static Var extreme(Var a, Var b, boolean max) {
        Tensor ad = a.data(), bd = b.data();
        Tensor out = max ? ad.maximum(bd) : ad.minimum(bd);
        return Var.result(out, max ? "maximum" : "minimum", g -> {
            Tensor aWins = max ? ad.gt(bd) : ad.lt(bd);
            Tensor ties = ad.eq(bd).mul(0.5);
            Tensor wa = aWins.add(ties);
            Tensor wb = wa.neg().add(1.0);
            return new Tensor[] {
                a.requiresGrad() ? sumToShape(g.mul(wa), ad.shape()) : null,
                b.requiresGrad() ? sumToShape(g.mul(wb), bd.shape()) : null};
        }, a, b);
    }

    static Var where(Tensor cond, Var a, Var b) {
        Tensor ad = a.data(), bd = b.data();
        return Var.result(Tensor.where(cond, ad, bd), "where", g -> {
            Tensor zero = Tensor.scalar(0, g.dtype()).to(g.device());
            return new Tensor[] {
                a.requiresGrad() ? sumToShape(Tensor.where(cond, g, zero), ad.shape()) : null,
                b.requiresGrad() ? sumToShape(Tensor.where(cond, zero, g), bd.shape()) : null};
        }, a, b);
    }

    static Var maskedFill(Var x, Tensor mask, double value) {
        Tensor xd = x.data();
        return Var.result(xd.maskedFill(mask, value), "masked_fill",
                g -> new Tensor[] {sumToShape(g.maskedFill(mask, 0.0), xd.shape())}, x);
    }

    static Var cast(Var x, DType dtype) {
        DType from = x.dtype();
        if (from == dtype) return x;
        return Var.result(x.data().to(dtype), "to_" + dtype, g -> new Tensor[] {g.to(from)}, x);
    }
}
