package dev.irtj.kernels.cpu;

import java.lang.management.ManagementFactory;

/**
 * Whether the Vector API can make this JVM fast: the incubator module is resolved, C2 compiles
 * (without it vector code runs as slow objects in the interpreter or C1), and the preferred
 * float species is at least 256 bits wide. {@link #problem()} says what is missing, or null.
 */
public final class VectorSupport {
    private static final String PROBLEM = detect();

    private VectorSupport() {
    }

    /** Null when the Vector API is usable; otherwise what is missing, in a few words. */
    public static String problem() {
        return PROBLEM;
    }

    private static String detect() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "the jdk.incubator.vector module is not loaded (start the JVM with --add-modules jdk.incubator.vector)";
        }
        String vmInfo = System.getProperty("java.vm.info", "");
        if (vmInfo.contains("interpreted mode")) return "the JVM runs interpreted (-Xint), so vector code would not be compiled";
        String c2 = c2Problem();
        if (c2 != null) return c2;
        try {
            int bits = VectorWidth.preferredFloatBits();
            if (bits < 256) return "the preferred float vector is " + bits + " bits wide; at least 256 (AVX2) are needed";
        } catch (LinkageError e) {
            return "the Vector API failed to load: " + e;
        }
        return null;
    }

    private static String c2Problem() {
        try {
            var diag = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            if (diag == null) return null;
            if ("false".equals(diag.getVMOption("UseCompiler").getValue())) return "the JIT compiler is disabled";
            int level = Integer.parseInt(diag.getVMOption("TieredStopAtLevel").getValue());
            boolean tiered = "true".equals(diag.getVMOption("TieredCompilation").getValue());
            if (tiered && level < 4) return "C2 is off (-XX:TieredStopAtLevel=" + level + "), so vector code would not be compiled";
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            // Not HotSpot, or the option does not exist: nothing to conclude, assume a capable JIT.
        }
        return null;
    }

    /** Isolated so that a missing module fails here, inside the try, rather than at class load. */
    private static final class VectorWidth {
        static int preferredFloatBits() {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
    }
}
