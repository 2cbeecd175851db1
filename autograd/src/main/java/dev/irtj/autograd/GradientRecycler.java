package dev.irtj.autograd;

import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Storage;
import dev.irtj.tensor.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The gradients of one backward pass that wait for their node, and the return of their storage
 * to the pool as soon as it is dead, so that the next layer's gradient reuses it instead of a new
 * array. Gradients made during the pass are owned by a scope of the pass; one storage may hold
 * several pending gradients (views: reshape, slices of a cat, add's pass-through), so each
 * storage counts its pending uses and is released when the last is consumed. Whatever survives
 * the pass is handed to the enclosing scope when this closes.
 */
final class GradientRecycler implements AutoCloseable {
    private final Map<Var, Tensor> waiting = new IdentityHashMap<>();
    private final Map<Storage, Integer> uses = new IdentityHashMap<>();
    private final MemoryScope pass;

    /** Opens the pass's scope with {@code gradRoot} waiting for {@code root}. */
    GradientRecycler(Var root, Tensor gradRoot) {
        waiting.put(root, gradRoot);
        uses.put(gradRoot.storage(), 1);
        pass = MemoryScope.open();
    }

    /** The gradient waiting for {@code v} (null if none reached it); the caller consumes it. */
    Tensor take(Var v) {
        return waiting.remove(v);
    }

    /**
     * Adds {@code g} to the gradient waiting for {@code v}. The partial sum it replaces is
     * consumed, and {@code g} too once it is added, unless another waiting gradient shares its
     * storage.
     */
    void add(Var v, Tensor g) {
        Tensor prev = waiting.get(v);
        Tensor sum = prev == null ? g : prev.add(g);
        waiting.put(v, sum);
        uses.merge(sum.storage(), 1, Integer::sum);
        if (prev != null) {
            consumed(prev);
            if (!uses.containsKey(g.storage())) pass.releaseNow(g.storage());
        }
    }

    /** One use of {@code g} is over; its storage is released if that was the last. */
    void consumed(Tensor g) {
        Storage s = g.storage();
        Integer n = uses.get(s);
        if (n == null) return;
        if (n > 1) {
            uses.put(s, n - 1);
            return;
        }
        uses.remove(s);
        pass.releaseNow(s);
    }

    /** Hands what the pass still owns (leaf gradients aside, which are long-lived) to the enclosing scope. */
    @Override
    public void close() {
        pass.closeKeepingAll();
    }
}
