package dev.irtj.tensor;

import java.util.logging.Logger;

/** Which device to compute on when the user lets irtj decide ({@code --device auto}). */
public final class Devices {
    private static final Logger LOG = Logger.getLogger(Devices.class.getName());
    private static Device auto;

    private Devices() {
    }

    /**
     * {@code cuda:0} when a usable CUDA backend is on the class path (a GPU, its driver and the
     * JCuda native libraries are present); otherwise the CPU, after one log line saying why.
     */
    public static synchronized Device auto() {
        if (auto == null) {
            String why = cudaProblem();
            if (why == null) {
                auto = Device.cuda(0);
            } else {
                LOG.info("irtj: no CUDA (" + why + "); computing on the CPU");
                auto = Device.CPU;
            }
        }
        return auto;
    }

    /** Null when a CUDA backend can run here; otherwise what is missing. */
    public static String cudaProblem() {
        String why = "no CUDA backend on the class path";
        for (Backend b : Backends.available()) {
            if (b.deviceKind() != Device.Kind.CUDA) continue;
            String r = b.unavailableReason();
            if (r == null) return null;
            why = r;
        }
        return why;
    }

    /** Parses "auto", "cpu", "cuda" or "cuda:N"; a named CUDA device must be usable. */
    public static Device parse(String spec) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("auto")) return auto();
        if (s.equals("cpu")) return Device.CPU;
        if (s.equals("cuda") || s.startsWith("cuda:")) {
            int index = 0;
            if (s.startsWith("cuda:")) {
                try {
                    index = Integer.parseInt(s.substring(5));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad device '" + spec + "': expected auto, cpu, cuda or cuda:N");
                }
            }
            String why = cudaProblem();
            if (why != null) throw new IllegalStateException("device " + spec + " requested but CUDA cannot run here: " + why);
            return Device.cuda(index);
        }
        throw new IllegalArgumentException("bad device '" + spec + "': expected auto, cpu, cuda or cuda:N");
    }
}
