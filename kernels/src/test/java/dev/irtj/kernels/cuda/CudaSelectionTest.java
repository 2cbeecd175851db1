package dev.irtj.kernels.cuda;

import dev.irtj.tensor.Backend;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Devices;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backend selection on whatever machine runs the build: the CUDA backend is on the class path
 * and either starts (then --device auto means cuda:0) or names what is missing (then auto means
 * the CPU, the CPU backend is unaffected and asking for cuda is an error that says why).
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
class CudaSelectionTest {

    @Test
    void autoIsCudaExactlyWhenTheBackendCanRun() {
        Backend cuda = Backends.available().stream().filter(b -> b.name().equals("cuda")).findFirst().orElseThrow();
        assertEquals(Device.Kind.CUDA, cuda.deviceKind());
        String why = cuda.unavailableReason();
        assertEquals(why, CudaDevice.problem());
        if (why == null) {
            assertEquals(Device.cuda(0), Devices.auto());
            assertEquals("cuda", Backends.forDevice(Device.cuda(0)).name());
        } else {
            assertTrue(why.length() > 10, "the reason names what is missing: " + why);
            assertEquals(Device.CPU, Devices.auto());
            assertEquals("cpu", Backends.forDevice(Device.CPU).name(), "the CPU backend is still chosen for the CPU");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Devices.parse("cuda"));
            assertTrue(e.getMessage().contains(why), e.getMessage());
            IllegalStateException c = assertThrows(IllegalStateException.class, () -> cuda.allocate(Device.cuda(0), dev.irtj.tensor.DType.F32, 4, true));
            assertNotNull(c.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Devices.parse("gpu"));
        assertEquals(Device.CPU, Devices.parse("cpu"));
    }
}
