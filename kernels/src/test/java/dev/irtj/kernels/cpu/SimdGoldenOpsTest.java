package dev.irtj.kernels.cpu;

import dev.irtj.autograd.GoldenOpsTest;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.Device;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The foundation's golden op tests (forward and every input gradient against PyTorch, F64 and
 * F32) re-run with the backend this module selects for the CPU: the Vector API backend, or the
 * one named by {@code -Dirtj.backend}.
 */
class SimdGoldenOpsTest {

    @TestFactory
    List<DynamicTest> goldenOpsOnTheSelectedCpuBackend() {
        Backend selected = Backends.forDevice(Device.CPU);
        String forced = System.getProperty("irtj.backend", "");
        if (forced.isBlank()) assertEquals("cpu", selected.name(), "the Vector API backend should win on this machine");
        return new GoldenOpsTest().everyGoldenOpMatchesInF64AndF32().stream()
                .map(t -> DynamicTest.dynamicTest(t.getDisplayName() + " [" + selected.name() + "]", () -> {
                    Backend previous = Backends.use(selected);
                    try {
                        t.getExecutable().execute();
                    } finally {
                        Backends.use(previous);
                    }
                }))
                .toList();
    }
}
