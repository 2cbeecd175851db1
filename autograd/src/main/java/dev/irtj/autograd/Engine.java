package dev.irtj.autograd;

import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Storage;
import dev.irtj.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation, micrograd's idea at tensor granularity: order the graph
 * topologically, walk it in reverse, and accumulate each node's input gradients. Leaves that
 * require a gradient receive it (+=) in {@link Var#grad()}; intermediate gradients are dropped
 * as soon as their node has run.
 */
final class Engine {
    private Engine() {
    }

    static void backward(Var root, Tensor gradRoot, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on a Var that does not require grad (no input of its graph does)");
        }
        if (!Arrays.equals(gradRoot.shape(), root.data().shape())) {
            throw new IllegalArgumentException("gradient of shape " + Shape.str(gradRoot.shape())
                    + " for an output of shape " + Shape.str(root.data().shape()));
        }
        List<Var> order = topologicalOrder(root);
        Map<Var, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, gradRoot);
        // Gradients made during this pass are owned by `pass`. Once one is consumed and no
        // pending gradient shares its storage (views: reshape, slices of a cat, add's
        // pass-through), it goes straight back to the pool, so the next layer's gradient reuses
        // it instead of a new array. Whatever survives the pass is handed to the enclosing scope.
        Map<Storage, Integer> pending = new IdentityHashMap<>();
        pending.put(gradRoot.storage(), 1);
        MemoryScope pass = MemoryScope.open();
        try (NoGrad ignored = NoGrad.enter()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Var v = order.get(i);
                Tensor g = grads.remove(v);
                if (g == null) continue;
                Node node = v.node();
                if (node == null) {
                    v.accumulateGrad(g);
                    consumed(g, pending, pass);
                    continue;
                }
                Tensor[] gin = node.backward().apply(g);
                for (int k = 0; k < node.inputs.length; k++) {
                    Var in = node.inputs[k];
                    if (!in.requiresGrad() || gin[k] == null) continue;
                    Tensor gk = gin[k];
                    if (!Arrays.equals(gk.shape(), in.data().shape())) {
                        throw new IllegalStateException("backward of '" + node.op + "' produced a gradient of shape "
                                + Shape.str(gk.shape()) + " for input " + k + " of shape " + Shape.str(in.data().shape()));
                    }
                    Tensor prev = grads.get(in);
                    Tensor sum = prev == null ? gk : prev.add(gk);
                    grads.put(in, sum);
                    pending.merge(sum.storage(), 1, Integer::sum);
                    if (prev != null) {
                        consumed(prev, pending, pass);
                        releaseIfDead(gk.storage(), pending, pass);
                    }
                }
                consumed(g, pending, pass);
                if (!retainGraph) v.releaseNode();
            }
        } finally {
            pass.closeKeepingAll();
        }
    }

    /** One pending use of {@code g} is gone; its storage is released if that was the last. */
    private static void consumed(Tensor g, Map<Storage, Integer> pending, MemoryScope pass) {
        Storage s = g.storage();
        Integer n = pending.get(s);
        if (n == null) return;
        if (n > 1) {
            pending.put(s, n - 1);
            return;
        }
        pending.remove(s);
        pass.releaseNow(s);
    }

    /** Releases storage made in this pass that no pending gradient uses (others are left alone). */
    private static void releaseIfDead(Storage s, Map<Storage, Integer> pending, MemoryScope pass) {
        if (!pending.containsKey(s)) pass.releaseNow(s);
    }

    /** Vars reachable from root that require grad, each after all of its inputs. */
    private static List<Var> topologicalOrder(Var root) {
        List<Var> order = new ArrayList<>();
        Set<Var> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        // Iterative DFS: deep ViTs would overflow the stack with recursion.
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Var v = (Var) frame[0];
            int next = (Integer) frame[1];
            Node node = v.node();
            if (node != null && next < node.inputs.length) {
                frame[1] = next + 1;
                Var in = node.inputs[next];
                if (in.requiresGrad() && visited.add(in)) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                order.add(v);
            }
        }
        return order;
    }
}
