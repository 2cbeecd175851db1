package dev.irtj.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.irtj.train.objective.Objective;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run's settings, made and compared in one place: what {@code config.json} records under
 * {@code settings} (everything that decides the trained weights: the objective and its settings,
 * the loop's, the data's) and the differences a {@code --resume} is refused for.
 *
 * <p>{@code iterations} may change on resume: a run is extended (or an unfinished one cut
 * short) by asking for another number of iterations; see {@link Trainer.Config#schedule()} for
 * what that does to the learning rate.
 */
public final class RunSettings {
    /** Settings a resumed run may change. */
    public static final Set<String> MAY_CHANGE_ON_RESUME = Set.of("iterations");

    private RunSettings() {
    }

    /** The objective's name and settings, the loop's, then {@code data}'s (batch, m, training images...), in that order. */
    public static Map<String, Object> of(Objective objective, Trainer.Config config, Map<String, Object> data) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("objective", objective.name());
        put(s, config.settings(), "the loop");
        put(s, objective.settings(), "objective " + objective.name());
        put(s, data, "the data");
        return s;
    }

    private static void put(Map<String, Object> into, Map<String, Object> from, String who) {
        from.forEach((k, v) -> {
            if (into.put(k, v) != null) throw new IllegalArgumentException(who + " records a setting '" + k + "' that another part records too");
        });
    }

    /**
     * Each setting that differs, as {@code "name: old → new"}, in the current settings' order.
     * Numbers compare by value (3 equals 3.0). A setting only one side records is not compared:
     * the objective's name already differs when a part is added or removed, and a run written
     * before a setting was recorded is taken to have used what it did then.
     */
    public static List<String> differences(JsonNode previous, Map<String, Object> current, Set<String> allowed) {
        List<String> out = new ArrayList<>();
        JsonNode old = legacy(previous);
        current.forEach((k, v) -> {
            if (allowed.contains(k) || !old.has(k)) return;
            JsonNode a = old.get(k), b = Checkpoint.json().valueToTree(v);
            boolean same = a.isNumber() && b.isNumber() ? a.decimalValue().compareTo(b.decimalValue()) == 0 : a.equals(b);
            if (!same) out.add(k + ": " + a + " → " + b);
        });
        return out;
    }

    /** Runs written before objectives were plug-ins named them CONTRASTIVE (with KoLeo when lambda > 0) or CROSS_ENTROPY. */
    private static JsonNode legacy(JsonNode previous) {
        String name = previous.path("objective").asText("");
        if (!name.equals("CONTRASTIVE") && !name.equals("CROSS_ENTROPY")) return previous;
        com.fasterxml.jackson.databind.node.ObjectNode copy = previous.deepCopy();
        copy.put("objective", name.equals("CROSS_ENTROPY") ? "cross_entropy" : previous.path("lambda").asDouble(0) > 0 ? "contrastive+koleo" : "contrastive");
        return copy;
    }
}
