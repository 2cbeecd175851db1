package dev.irtj.autograd;

import dev.irtj.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/** cat, stack, index_select and gather, with their adjoints (slicing, index_add, scatter_add). */
final class Joining {
    private Joining() {
    }

    static Var cat(List<Var> vars, int dim) {
        List<Tensor> data = new ArrayList<>();
        for (Var v : vars) data.add(v.data());
        Tensor out = Tensor.cat(data, dim);
        int d = Math.floorMod(dim, out.rank());
        int[] sizes = new int[vars.size()];
        for (int i = 0; i < sizes.length; i++) sizes[i] = vars.get(i).shape(d);
        return Var.result(out, "cat", g -> {
            Tensor[] grads = new Tensor[sizes.length];
            int at = 0;
            for (int i = 0; i < sizes.length; i++) {
                grads[i] = g.narrow(d, at, sizes[i]);
                at += sizes[i];
            }
            return grads;
        }, vars.toArray(new Var[0]));
    }

    static Var stack(List<Var> vars, int dim) {
        if (vars.isEmpty()) throw new IllegalArgumentException("stack of no tensors");
        int d = Math.floorMod(dim, vars.get(0).rank() + 1);
        List<Var> u = new ArrayList<>();
        for (Var v : vars) u.add(v.unsqueeze(d));
        return cat(u, d);
    }

    static Var indexSelect(Var x, int dim, Tensor index) {
        Tensor xd = x.data();
        int d = Math.floorMod(dim, xd.rank());
        return Var.result(xd.indexSelect(d, index), "index_select",
                g -> new Tensor[] {Tensor.indexAdd(xd.shape(), d, index, g)}, x);
    }

    static Var gather(Var x, int dim, Tensor index) {
        Tensor xd = x.data();
        int d = Math.floorMod(dim, xd.rank());
        return Var.result(xd.gather(d, index), "gather",
                g -> new Tensor[] {Tensor.scatterAdd(xd.shape(), d, index, g)}, x);
    }
}
