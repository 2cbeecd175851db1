package dev.irtj.cli;

import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.vit.Pooling;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What makes descriptors, as every command that computes them takes it: a run folder
 * ({@code --checkpoint RUN}: its model, channels, image size, pooling and PCA) or timm weights
 * with a preset or a custom shape. Shared by {@code embed}, {@code eval}, {@code index},
 * {@code search} and {@code serve}.
 */
public final class ModelSourceOptions {
    @Option(names = "--checkpoint", description = "A run folder written by irt train: its model, input size, channels, pooling and PCA.")
    Path run;

    @Option(names = "--weights", description = "timm model.safetensors instead of a run; needs --model or a custom shape.")
    Path weights;

    @ArgGroup(exclusive = false, heading = "Model (with --weights)%n")
    ModelOptions model = new ModelOptions();

    @Option(names = "--channels", description = "Input channels with --weights: 3 (RGB) or 1 (gray) (default: 3).")
    Integer channels;

    @Option(names = "--pool", description = "Pooling: cls, avg, max or gem (default: the run's, or cls).")
    Pooling pool;

    @Option(names = "--crop-pct", description = "Center-crop fraction of the eval transform: resize the shorter side to size/crop-pct, crop size (default: 0.875, irtj's; timm's DeiT configs use 0.9).")
    Double cropPct;

    @Option(names = "--no-pca", description = "Ignore the PCA saved in the run folder by irt eval --pca.")
    boolean noPca;

    @Option(names = "--batch", defaultValue = "32", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--workers", description = "Image decoding threads (default: the number of processors).")
    Integer workers;

    @Option(names = "--device", defaultValue = "auto",
            description = "auto (cuda when a GPU, its driver and JCuda load; else cpu, with one log line), cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    /** Whether any option of this group was given (commands that can also work without a model ask). */
    boolean given() {
        return run != null || weights != null;
    }

    /**
     * Checks the options (one {@link UsageException} line on a bad combination) and loads the
     * describer. Implemented over {@code dev.irtj.retrieval.DescriptorPipeline}.
     */
    ImageDescriber open() throws IOException {
        throw new UnsupportedOperationException("ModelSourceOptions.open: being written on main (retrieval pipeline)");
    }
}
