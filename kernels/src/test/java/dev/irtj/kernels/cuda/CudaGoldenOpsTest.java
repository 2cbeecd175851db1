package dev.irtj.kernels.cuda;

import dev.irtj.autograd.GoldenOpsTest;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.CudaDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The golden op tests (forward and every input gradient against PyTorch, F64 and F32, with
 * GoldenOpsTest's tolerances) with every tensor on cuda:0, computed by the CUDA backend.
 * Skipped where no CUDA device is present.
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
@ExtendWith(CudaDevice.class)
class CudaGoldenOpsTest {

    @TestFactory
    List<DynamicTest> goldenOpsOnTheGpu() {
        assertEquals("cuda", Backends.forDevice(CudaDevice.DEVICE).name());
        return new GoldenOpsTest().everyGoldenOpMatchesInF64AndF32(CudaDevice.DEVICE).stream()
                .map(t -> DynamicTest.dynamicTest(t.getDisplayName() + " [cuda]", t.getExecutable()))
                .toList();
    }
}
