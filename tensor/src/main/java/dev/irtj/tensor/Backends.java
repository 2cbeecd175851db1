package dev.irtj.tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.logging.Logger;

/**
 * Finds backends with {@link ServiceLoader} and picks, per device kind, the usable one with the
 * highest priority. {@code -Dirtj.backend=NAME} forces a backend by name; a forced backend that
 * is missing or unusable is an error, not a silent fallback.
 */
public final class Backends {
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());
    // Read on every tensor op, so lock-free; written under the class lock.
    private static final AtomicReferenceArray<Backend> CHOSEN = new AtomicReferenceArray<>(Device.Kind.values().length);
    private static List<Backend> all;

    private Backends() {
    }

    /** Every backend on the class path, usable or not. */
    public static synchronized List<Backend> available() {
        if (all == null) {
            List<Backend> found = new ArrayList<>();
            for (Backend b : ServiceLoader.load(Backend.class)) found.add(b);
            found.sort(Comparator.comparingInt(Backend::priority).reversed());
            all = List.copyOf(found);
        }
        return all;
    }

    /** The backend that computes on {@code device}. */
    public static Backend forDevice(Device device) {
        return forKind(device.kind());
    }

    public static Backend forKind(Device.Kind kind) {
        Backend chosen = CHOSEN.get(kind.ordinal());
        return chosen != null ? chosen : chooseOnce(kind);
    }

    private static synchronized Backend chooseOnce(Device.Kind kind) {
        Backend chosen = CHOSEN.get(kind.ordinal());
        if (chosen == null) {
            chosen = choose(kind);
            CHOSEN.set(kind.ordinal(), chosen);
        }
        return chosen;
    }

    /** The backend named {@code name}, if present and usable; for tests that compare backends. */
    public static Backend byName(String name) {
        for (Backend b : available()) {
            if (b.name().equals(name)) {
                String why = b.unavailableReason();
                if (why != null) throw new IllegalStateException("backend '" + name + "' cannot run here: " + why);
                return b;
            }
        }
        throw new IllegalArgumentException("no backend named '" + name + "'; available: " + names());
    }

    /**
     * Replaces the backend for its device kind (tests run the same checks on several backends).
     * Returns the previous one.
     */
    public static synchronized Backend use(Backend backend) {
        Backend previous = forKind(backend.deviceKind());
        CHOSEN.set(backend.deviceKind().ordinal(), backend);
        return previous;
    }

    /**
     * For tests that stand in a backend for a device kind none can serve here (an emulated GPU):
     * installs {@code backend} for {@code kind} without choosing one first and returns the one
     * installed before, or null, which makes the next lookup choose again.
     */
    static synchronized Backend install(Device.Kind kind, Backend backend) {
        Backend previous = CHOSEN.get(kind.ordinal());
        CHOSEN.set(kind.ordinal(), backend);
        return previous;
    }

    private static Backend choose(Device.Kind kind) {
        String forced = System.getProperty("irtj.backend", "").trim();
        if (!forced.isEmpty()) {
            Backend b = byName(forced);
            if (b.deviceKind() == kind) return b;
        }
        Backend best = null;
        List<String> skipped = new ArrayList<>();
        for (Backend b : available()) {
            if (b.deviceKind() != kind) continue;
            String why = b.unavailableReason();
            if (why == null) {
                if (best == null) best = b;
            } else if (best == null) {
                skipped.add("'" + b.name() + "' (" + why + ")");
            }
        }
        if (best == null) throw new IllegalStateException("no usable backend for " + kind + "; found: " + names());
        if (!skipped.isEmpty()) {
            LOG.warning("irtj: backend " + String.join(", ", skipped) + " cannot run; using '" + best.name() + "' instead");
        }
        return best;
    }

    private static List<String> names() {
        List<String> n = new ArrayList<>();
        for (Backend b : available()) n.add(b.name());
        return n;
    }
}
