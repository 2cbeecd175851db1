package dev.irtj.cli;

import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.retrieval.RunConfig;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Devices;
import dev.irtj.vit.Pooling;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
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

    @Option(names = "--weights", description = "Weights instead of a run: timm model.safetensors or a PyTorch checkpoint (.pth from torch.save, e.g. the DeiT releases), recognised by content; needs --model or a custom shape.")
    Path weights;

    @ArgGroup(exclusive = false, heading = "Model (with --weights)%n")
    ModelOptions model = new ModelOptions();

    @Option(names = "--channels", description = "Input channels with --weights: 3 (RGB) or 1 (gray) (default: 3; 1 for --format mnist).")
    Integer channels;

    @Option(names = "--pool", description = "Pooling: cls, avg, max, gem or cls_dist (default: the run's, or cls).")
    Pooling pool;

    @Option(names = "--dist-token", description = DistToken.HELP)
    DistToken distToken;

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

    /** The model source these options name (one {@link UsageException} line on a bad combination). */
    ModelSource source() {
        return source(3);
    }

    /** As {@link #source()}, with {@code defaultChannels} when --weights is given without --channels (1 for gray datasets). */
    ModelSource source(int defaultChannels) {
        if (run != null && weights != null) throw new UsageException("give one of --checkpoint RUN and --weights FILE, not both");
        if (run == null && weights == null) throw new UsageException("give --checkpoint RUN (a folder written by irt train) or --weights FILE with --model or a custom shape");
        if (cropPct != null && !(cropPct > 0 && cropPct <= 1)) throw new UsageException("--crop-pct must be in (0, 1], got " + cropPct);
        Pooling pool = DistToken.pooling(this.pool, distToken);
        if (run != null) {
            if (model.given()) throw new UsageException("--checkpoint takes the model from the run; drop the model options (--model, --img-size, ...)");
            if (channels != null) throw new UsageException("--checkpoint takes the channels from the run; drop --channels");
            if (!Files.isDirectory(run)) throw new UsageException("--checkpoint " + run + ": no such run folder");
            if (!Files.isRegularFile(run.resolve(RunConfig.FILE))) {
                throw new UsageException("--checkpoint " + run + ": not a run folder written by irt train (" + RunConfig.FILE + " is missing)");
            }
            return new ModelSource.Run(run, pool, cropPct, !noPca);
        }
        if (noPca) throw new UsageException("--no-pca applies to a run folder's PCA; --weights has none");
        if (!model.given()) throw new UsageException("--weights needs --model PRESET or a custom shape (--img-size --patch --dim --depth --heads)");
        if (!Files.isRegularFile(weights)) throw new UsageException("--weights " + weights + ": no such file");
        int ch = channels == null ? defaultChannels : channels;
        if (ch != 1 && ch != 3) throw new UsageException("--channels must be 1 or 3, got " + ch);
        return new ModelSource.Weights(weights, model.config(ch), pool, cropPct);
    }

    /** Pipeline options from --batch, --workers and --device; warnings go to {@code err}. */
    DescriptorPipeline.Options pipelineOptions(PrintWriter err) {
        if (batch < 1) throw new UsageException("--batch must be at least 1, got " + batch);
        if (workers != null && workers < 1) throw new UsageException("--workers must be at least 1, got " + workers);
        Device d;
        try {
            d = Devices.parse(device);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device " + device + ": " + e.getMessage());
        }
        int w = workers != null ? workers : Math.max(1, Runtime.getRuntime().availableProcessors());
        return new DescriptorPipeline.Options(batch, w, d, line -> {
            err.println(line);
            err.flush();
        });
    }

    /** Checks the options and loads the describer, warnings to stderr. */
    DescriptorPipeline open() throws IOException {
        return open(new PrintWriter(System.err, true));
    }

    /** Checks the options and loads the describer. */
    DescriptorPipeline open(PrintWriter err) throws IOException {
        return open(source(), err);
    }

    /** Loads the describer of {@code s} with these options' batch, workers and device. */
    DescriptorPipeline open(ModelSource s, PrintWriter err) throws IOException {
        DescriptorPipeline.Options o = pipelineOptions(err);
        try {
            return DescriptorPipeline.open(s, o);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
