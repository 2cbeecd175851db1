package dev.irtj.tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.WeakHashMap;
import java.util.List;
import java.util.Set;

/**
 * Explicit lifetime for temporaries: every storage allocated on this thread while the scope is
 * the innermost open one is released when it closes, except storage passed to {@link #keep}.
 * Kept storage moves to the enclosing scope (or becomes unscoped at top level).
 *
 * <pre>{@code
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor loss = ...;            // temporaries of the step
 *     return step.keep(loss);       // survives; everything else goes back to the pool
 * }
 * }</pre>
 *
 * Using a released tensor throws {@link IllegalStateException}; it never reads recycled data.
 * Storage that becomes unreachable before the scope closes may be garbage-collected instead of
 * returning to the pool, so the scope never raises the peak memory of a step. State that
 * outlives a step is given to {@link LongLived}, which takes it from every open scope.
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<MemoryScope> CURRENT = new ThreadLocal<>();

    private final MemoryScope parent;
    // Weakly held: a temporary that dies inside the step (an intermediate gradient, a tensor
    // saved for a backward that has run) can be collected under memory pressure instead of
    // living until the scope closes. Storage uses identity equality, so this is an identity set.
    private final Set<Storage> owned = Collections.newSetFromMap(new WeakHashMap<>());
    private boolean closed;

    private MemoryScope(MemoryScope parent) {
        this.parent = parent;
    }

    /** Opens a scope nested in the current one. */
    public static MemoryScope open() {
        MemoryScope s = new MemoryScope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /**
     * Puts storage under the innermost open scope, if any. Storage implementations call this on
     * allocation (device backends live outside this package).
     */
    public static void register(Storage s) {
        MemoryScope scope = CURRENT.get();
        if (scope != null) scope.owned.add(s);
    }

    /** Takes {@code s} from every scope open on this thread ({@link LongLived#adopt}). */
    static void disown(Storage s) {
        for (MemoryScope scope = CURRENT.get(); scope != null; scope = scope.parent) scope.owned.remove(s);
    }

    /** Keeps the tensors' storage alive past this scope and returns the first tensor. */
    public Tensor keep(Tensor first, Tensor... more) {
        keepStorage(first.storage());
        for (Tensor t : more) keepStorage(t.storage());
        return first;
    }

    public <T extends Iterable<Tensor>> T keepAll(T tensors) {
        for (Tensor t : tensors) keepStorage(t.storage());
        return tensors;
    }

    private void keepStorage(Storage s) {
        // The enclosing scope takes it over (at top level, no scope does).
        if (owned.remove(s) && parent != null && !parent.closed) parent.owned.add(s);
    }

    /**
     * Releases {@code s} now if this scope owns it (it was allocated while the scope was
     * innermost and not kept), so its memory is reused within the scope; returns whether it did.
     * For owners that know a temporary is dead, such as the backward pass for a consumed
     * gradient.
     */
    public boolean releaseNow(Storage s) {
        if (closed || !owned.remove(s)) return false;
        s.release();
        return true;
    }

    /**
     * Closes the scope without releasing anything: what it still owns moves to the enclosing
     * scope, as if each had been passed to {@link #keep}.
     */
    public void closeKeepingAll() {
        for (Storage s : new ArrayList<>(owned)) keepStorage(s);
        close();
    }

    /** Number of storages this scope will release on close. */
    public int ownedCount() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) return;
        if (CURRENT.get() != this) {
            throw new IllegalStateException("MemoryScopes must be closed innermost first");
        }
        closed = true;
        CURRENT.set(parent);
        List<Storage> toRelease = new ArrayList<>(owned);
        owned.clear();
        for (Storage s : toRelease) s.release();
    }
}
