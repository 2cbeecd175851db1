package dev.irtj.autograd;

import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reverse-mode differentiation, micrograd's idea at tensor granularity: order the graph
 * topologically, walk it in reverse, and accumulate each node's input gradients. Leaves that
 * require a gradient receive it (+=) in {@link Var#grad()}; intermediate gradients wait in a
 * {@link GradientRecycler}, which returns their storage to the pool as soon as their node has run.
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
        try (GradientRecycler grads = new GradientRecycler(root, gradRoot); NoGrad ignored = NoGrad.enter()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Var v = order.get(i);
                Tensor g = grads.take(v);
                if (g == null) continue;
                if (v.isLeaf()) v.accumulateGrad(g);
                else propagate(v.node(), g, grads);
                grads.consumed(g);
                if (!retainGraph) v.releaseNode();
            }
        }
    }

    /** Runs the node's backward on its output's gradient and adds each input's share to what waits for it. */
    private static void propagate(Node node, Tensor g, GradientRecycler grads) {
        Tensor[] gin = node.backward().apply(g);
        for (int k = 0; k < node.inputs.length; k++) {
            Var in = node.inputs[k];
            if (!in.requiresGrad() || gin[k] == null) continue;
            if (!Arrays.equals(gin[k].shape(), in.data().shape())) {
                throw new IllegalStateException("backward of '" + node.op + "' produced a gradient of shape "
                        + Shape.str(gin[k].shape()) + " for input " + k + " of shape " + Shape.str(in.data().shape()));
            }
            grads.add(in, gin[k]);
        }
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
