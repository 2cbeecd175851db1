package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backend discovery through ServiceLoader and selection by name and device. */
class BackendsTest {

    @Test
    void serviceLoaderFindsTheReferenceBackend() {
        List<Backend> all = Backends.available();
        assertTrue(all.stream().anyMatch(b -> b.name().equals("reference") && b instanceof ReferenceBackend),
                "the reference backend is registered in META-INF/services; found " + all.stream().map(Backend::name).toList());
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i - 1).priority() >= all.get(i).priority(), "available() is sorted by priority, highest first");
        }
        assertSame(all, Backends.available(), "discovery runs once");
    }

    @Test
    void referenceBackendDescribesItself() {
        Backend ref = Backends.byName("reference");
        assertInstanceOf(ReferenceBackend.class, ref);
        assertEquals(Device.Kind.CPU, ref.deviceKind());
        assertNull(ref.unavailableReason(), "the reference backend runs everywhere");
        assertEquals(0, ref.priority());
    }

    @Test
    void cpuDeviceGetsAUsableBackend() {
        Backend cpu = Backends.forDevice(Device.CPU);
        assertEquals(Device.Kind.CPU, cpu.deviceKind());
        assertNull(cpu.unavailableReason());
        assertSame(cpu, Backends.forKind(Device.Kind.CPU), "the choice is cached");
        assertSame(cpu, Tensor.zeros(DType.F32, 1).backend());
    }

    @Test
    void unknownNameFailsListingTheAvailableOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.byName("no-such-backend"));
        assertTrue(e.getMessage().contains("no-such-backend"), e.getMessage());
        assertTrue(e.getMessage().contains("reference"), "should list the available backends: " + e.getMessage());
    }

    @Test
    void useReplacesTheBackendForItsDeviceKind() {
        Backend previous = Backends.forKind(Device.Kind.CPU);
        Backend ref = new ReferenceBackend();
        try {
            assertSame(previous, Backends.use(ref));
            assertSame(ref, Tensor.zeros(DType.F32, 1).backend());
        } finally {
            Backends.use(previous);
        }
        assertSame(previous, Backends.forKind(Device.Kind.CPU));
    }

    @Test
    void devices() {
        assertEquals("cpu", Device.CPU.toString());
        assertEquals("cuda:1", Device.cuda(1).toString());
        assertEquals(Device.cuda(0), Device.cuda(0));
        assertEquals(Device.cuda(0).hashCode(), Device.cuda(0).hashCode());
        assertTrue(!Device.cuda(0).equals(Device.cuda(1)) && !Device.cuda(0).equals(Device.CPU));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void dtypes() {
        assertEquals(4, DType.F32.byteSize());
        assertEquals(8, DType.F64.byteSize());
        assertEquals(8, DType.I64.byteSize());
        assertTrue(DType.F32.isFloating() && DType.F64.isFloating() && !DType.I64.isFloating());
    }
}
