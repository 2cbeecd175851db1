package dev.irtj.kernels.cpu;

import dev.irtj.tensor.Backends;
import dev.irtj.tensor.Device;

/** Prints the backend chosen for the CPU; run in a child JVM by {@link VectorSupportTest}. */
public final class BackendProbe {
    private BackendProbe() {
    }

    public static void main(String[] args) {
        System.out.println("chosen=" + Backends.forDevice(Device.CPU).name());
    }
}
