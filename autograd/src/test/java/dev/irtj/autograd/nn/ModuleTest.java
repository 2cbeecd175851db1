package dev.irtj.autograd.nn;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModuleTest {

    /** fc → norm, like a tiny block. */
    static final class TwoLayer extends Module {
        final Linear fc;
        final LayerNorm norm;

        TwoLayer(long seed) {
            fc = addModule("fc", new Linear(4, 3, true, new Rng(seed), DType.F32));
            norm = addModule("norm", new LayerNorm(3, 1e-6, DType.F32));
        }

        Var forward(Var x) {
            return norm.forward(fc.forward(x));
        }
    }

    @Test
    void namesAreDottedInRegistrationOrder() {
        assertEquals(List.of("fc.weight", "fc.bias", "norm.weight", "norm.bias"), List.copyOf(new TwoLayer(1).namedParameters().keySet()));
    }

    @Test
    void initializationFollowsTimm() {
        TwoLayer m = new TwoLayer(3);
        double[] w = m.fc.weight().data().toDoubleArray();
        for (double v : w) assertTrue(Math.abs(v) < 0.1, "trunc-normal std 0.02 weights, got " + v);
        assertArrayEquals(new double[3], m.fc.bias().data().toDoubleArray());
        assertArrayEquals(new double[] {1, 1, 1}, m.namedParameters().get("norm.weight").data().toDoubleArray());
    }

    @Test
    void parametersMadeOrLoadedInsideAStepScopeOutliveIt() {
        TwoLayer reference = new TwoLayer(1), built, loaded = new TwoLayer(2);
        Tensor x = Tensor.randn(new Rng(9), DType.F32, 5, 4);
        try (MemoryScope step = MemoryScope.open()) {
            built = new TwoLayer(1);
            // Values that are temporaries of the scope, as a checkpoint converted in a step is.
            Map<String, Tensor> state = new LinkedHashMap<>();
            reference.stateDict().forEach((n, t) -> state.put(n, t.to(DType.F64)));
            loaded.loadStateDict(state);
            Var y = built.forward(Var.constant(x)).sum();
            built.zeroGrad();
            y.backward();
        }
        float[] expected = reference.forward(Var.constant(x)).data().toFloatArray();
        assertArrayEquals(expected, built.forward(Var.constant(x)).data().toFloatArray(), "parameters built in the scope");
        assertArrayEquals(expected, loaded.forward(Var.constant(x)).data().toFloatArray(), "parameters loaded in the scope");
        for (Parameter p : built.parameters()) {
            assertFalse(p.grad().storage().isReleased(), "a gradient made in the scope lives until zeroGrad");
        }
    }

    @Test
    void checkpointRoundTripGivesIdenticalOutputs(@TempDir Path dir) throws Exception {
        TwoLayer a = new TwoLayer(1), b = new TwoLayer(2);
        Path file = dir.resolve("m.safetensors");
        a.save(file, Map.of("note", "test"));
        b.load(file);
        Tensor x = Tensor.randn(new Rng(9), DType.F32, 5, 4);
        assertArrayEquals(a.forward(Var.constant(x)).data().toFloatArray(), b.forward(Var.constant(x)).data().toFloatArray());
    }

    @Test
    void everyMismatchIsReportedAtOnce() {
        TwoLayer m = new TwoLayer(1);
        Map<String, Tensor> state = new LinkedHashMap<>(m.stateDict());
        state.remove("fc.bias");
        state.put("fc.weight", Tensor.zeros(DType.F32, 3, 5));
        state.put("extra.thing", Tensor.zeros(DType.F32, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state, "ckpt.safetensors", n -> false));
        String msg = e.getMessage();
        assertTrue(msg.contains("ckpt.safetensors"), msg);
        assertTrue(msg.contains("missing fc.bias [3]"), msg);
        assertTrue(msg.contains("fc.weight: file has [3, 5], model expects [3, 4]"), msg);
        assertTrue(msg.contains("unexpected extra.thing [2]"), msg);
        assertTrue(msg.contains("3 problems"), msg);
        assertEquals(1, msg.lines().count(), "one line: " + msg);
    }

    @Test
    void nonFiniteWeightsAreRefusedNamingTheTensorUnlessAllowed() {
        TwoLayer m = new TwoLayer(1);
        Map<String, Tensor> state = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> state.put(k, v.copy()));
        float[] w = state.get("fc.weight").toFloatArray();
        w[5] = Float.NaN;
        state.put("fc.weight", Tensor.of(w, state.get("fc.weight").shape()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state, "bad.safetensors", n -> false));
        assertTrue(e.getMessage().contains("bad.safetensors: tensor fc.weight holds NaN at element 5"), e.getMessage());
        assertTrue(e.getMessage().contains(Module.ALLOW_NON_FINITE), e.getMessage());
        System.setProperty(Module.ALLOW_NON_FINITE, "true");
        try {
            m.loadStateDict(state, "bad.safetensors", n -> false);
            assertTrue(Double.isNaN(m.fc.weight().data().toDoubleArray()[5]));
        } finally {
            System.clearProperty(Module.ALLOW_NON_FINITE);
        }
    }

    @Test
    void loadingConvertsDtypeAndCopies() {
        TwoLayer m = new TwoLayer(1);
        Map<String, Tensor> state = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> state.put(k, v.to(DType.F64).add(1.0)));
        m.loadStateDict(state);
        Tensor w = m.fc.weight().data();
        assertEquals(DType.F32, w.dtype());
        state.get("fc.weight").fill(0);
        assertFalse(w.toDoubleArray()[0] == 0, "the module must not share storage with the loaded map");
    }

    @Test
    void trainAndEvalPropagate() {
        TwoLayer m = new TwoLayer(1);
        m.eval();
        assertFalse(m.fc.isTraining());
        m.train(true);
        assertTrue(m.norm.isTraining());
    }

    @Test
    void dropPathScalesKeptSamplesAndIsIdentityInEval() {
        DropPath dp = new DropPath(0.5, new Rng(4));
        Var x = Var.constant(Tensor.ones(DType.F64, 64, 3));
        double[] y = dp.forward(x).data().toDoubleArray();
        int kept = 0;
        for (int i = 0; i < 64; i++) {
            assertTrue(y[3 * i] == 0 || y[3 * i] == 2.0, "kept samples are scaled by 1/(1-p)");
            assertEquals(y[3 * i], y[3 * i + 2], "one decision per sample");
            if (y[3 * i] != 0) kept++;
        }
        assertTrue(kept > 10 && kept < 54, "about half kept, got " + kept);
        dp.eval();
        assertSame(x, dp.forward(x));
        assertThrows(IllegalArgumentException.class, () -> new DropPath(1.0, new Rng(1)));
    }

    @Test
    void savedFileUsesParameterNames(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        new TwoLayer(1).save(file, Map.of());
        assertEquals(List.of("fc.weight", "fc.bias", "norm.weight", "norm.bias"), List.copyOf(SafeTensors.read(file).tensors().keySet()));
    }
}
