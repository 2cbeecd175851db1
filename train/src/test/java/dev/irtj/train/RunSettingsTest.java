package dev.irtj.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.irtj.train.objective.ContrastiveObjective;
import dev.irtj.train.objective.KoLeoObjective;
import dev.irtj.train.objective.Objective;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RunSettingsTest {
    static Map<String, Object> settings(double lr, double lambda, int iterations) {
        Objective o = Objective.sum(new ContrastiveObjective(0.5, 100, 0, 0), new KoLeoObjective(lambda));
        return RunSettings.of(o, Trainer.Config.builder().iterations(iterations).lr(lr).build(), Map.of("batch", 64));
    }

    static JsonNode written(Map<String, Object> s) throws IOException {
        return Checkpoint.json().readTree(Checkpoint.json().writeValueAsString(s));
    }

    @Test
    void recordsTheObjectiveTheLoopAndTheDataInOrder() {
        assertEquals(List.of("objective", "iterations", "lr", "weight_decay", "warmup", "schedule", "clip", "pooling", "seed",
                "reduction", "beta", "memory", "memory_start", "momentum", "enqueue", "lambda", "batch"), List.copyOf(settings(1e-3, 0.7, 10).keySet()));
        assertEquals("contrastive+koleo", settings(1e-3, 0.7, 10).get("objective"));
    }

    @Test
    void namesEachDifferenceAndAllowsTheIterationsToChange() throws IOException {
        JsonNode before = written(settings(1e-3, 0.7, 10));
        assertEquals(List.of(), RunSettings.differences(before, settings(1e-3, 0.7, 20), RunSettings.MAY_CHANGE_ON_RESUME));
        assertEquals(List.of("iterations: 10 → 20"), RunSettings.differences(before, settings(1e-3, 0.7, 20), Set.of()));
        assertEquals(List.of("lr: 0.001 → 0.002", "lambda: 0.7 → 0.5"),
                RunSettings.differences(before, settings(2e-3, 0.5, 10), RunSettings.MAY_CHANGE_ON_RESUME));
    }

    @Test
    void numbersCompareByValueAndOlderRunsObjectiveNamesAreUnderstood() throws IOException {
        JsonNode legacy = Checkpoint.json().readTree("{\"objective\":\"CONTRASTIVE\",\"iterations\":10,\"lr\":1.0E-3,\"beta\":0.5,\"lambda\":0.7,"
                + "\"memory\":100.0,\"momentum\":0,\"seed\":0,\"batch\":64}");
        assertEquals(List.of(), RunSettings.differences(legacy, settings(1e-3, 0.7, 10), Set.of()));
        JsonNode irtL = Checkpoint.json().readTree("{\"objective\":\"CONTRASTIVE\",\"lambda\":0.0}");
        assertEquals(List.of("objective: \"contrastive\" → \"contrastive+koleo\"", "lambda: 0.0 → 0.7"), RunSettings.differences(irtL, settings(1e-3, 0.7, 10), Set.of()));
    }

    @Test
    void twoPartsRecordingOneSettingIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Objective.sum(new KoLeoObjective(0.5), new KoLeoObjective(0.7)));
    }
}
