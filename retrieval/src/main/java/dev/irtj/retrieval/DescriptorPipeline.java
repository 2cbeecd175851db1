package dev.irtj.retrieval;

import java.io.IOException;

/** The one descriptor pipeline (being written on main; signatures fixed). */
public final class DescriptorPipeline {
    private DescriptorPipeline() {
    }

    /** Reopens the describer an index recorded ({@link ImageDescriber#source()}). */
    public static ImageDescriber reopen(String source) throws IOException {
        throw new UnsupportedOperationException("DescriptorPipeline.reopen: being written on main");
    }
}
