package dev.irtj.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import dev.irtj.vit.image.ImageDecoder;
import dev.irtj.vit.image.ImageFiles;
import dev.irtj.vit.image.Preprocess;
import dev.irtj.vit.image.UndecodableImageException;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** {@code irt embed}: descriptors of every image under a folder, written as safetensors. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Compute L2-normalized descriptors of every image under a folder (recursively).")
public final class EmbedCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;


    @Option(names = "--model", defaultValue = "deit_small_patch16_224",
            description = "Model preset: deit_tiny_patch16_224, deit_small_patch16_224, deit_base_patch16_224 (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--weights", required = true, description = "timm model.safetensors (or an irtj checkpoint) for the model.")
    Path weights;

    @Option(names = "--images", required = true, description = "Folder of images, searched recursively.")
    Path images;

    @Option(names = "--out", required = true, description = "Output .safetensors: 'descriptors' [N, D] F32, relative image paths in the metadata.")
    Path out;

    @Option(names = "--pool", defaultValue = "cls", description = "Pooling: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Pooling pool;

    @Option(names = "--size", defaultValue = "224", description = "Input size in pixels; pos_embed is resampled when it differs from the weights' (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--batch", defaultValue = "32", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--device", defaultValue = "auto",
            description = "auto (cuda when a GPU, its driver and JCuda load; else cpu, with one log line), cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        ViTConfig config = ViTConfig.preset(model).withImgSize(size);
        List<Path> files = ImageFiles.walk(images);
        if (files.isEmpty()) throw new IllegalArgumentException("no image files (" + String.join(", ", ImageFiles.EXTENSIONS) + ") under " + images);
        VisionTransformer vit = TimmCheckpoint.load(weights, config, DType.F32);
        vit.to(dev.irtj.tensor.Devices.parse(device));
        vit.eval();
        // timm evaluates DeiT with crop_pct 0.875: resize the shorter side to size/0.875, crop size.
        int resize = (int) Math.floor(size / 0.875);
        int d = config.embedDim();

        List<String> kept = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        int skipped = 0;
        ExecutorService decoders = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("embed").setInitialMax(files.size()).setUnit(" img", 1)
                .showSpeed().setStyle(ProgressBarStyle.ASCII).build()) {
            for (int start = 0; start < files.size(); start += batch) {
                List<Path> chunk = files.subList(start, Math.min(files.size(), start + batch));
                List<Future<float[]>> decoded = new ArrayList<>();
                for (Path p : chunk) decoded.add(decoders.submit(() -> Preprocess.eval(ImageDecoder.readRgb(p), resize, size, true)));
                List<float[]> pixels = new ArrayList<>();
                for (int i = 0; i < chunk.size(); i++) {
                    try {
                        pixels.add(decoded.get(i).get());
                        kept.add(images.relativize(chunk.get(i)).toString().replace('\\', '/'));
                    } catch (java.util.concurrent.ExecutionException e) {
                        if (!(e.getCause() instanceof UndecodableImageException)) throw e;
                        skipped++;
                        bar.setExtraMessage(" skipped " + skipped);
                        spec.commandLine().getErr().println("warning: skipping " + chunk.get(i) + ": " + e.getCause().getMessage());
                    }
                }
                if (!pixels.isEmpty()) rows.addAll(embedBatch(vit, pixels, d));
                bar.stepBy(chunk.size());
            }
        } finally {
            decoders.shutdownNow();
        }
        if (rows.isEmpty()) throw new IllegalStateException("none of the " + files.size() + " images under " + images + " could be decoded");
        float[] all = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, all, i * d, d);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", model);
        meta.put("pool", pool.name().toLowerCase());
        meta.put("size", Integer.toString(size));
        meta.put("weights", weights.getFileName().toString());
        meta.put("skipped", Integer.toString(skipped));
        meta.put("paths", new ObjectMapper().writeValueAsString(kept));
        SafeTensors.write(out, Map.of("descriptors", Tensor.of(all, rows.size(), d)), meta);
        spec.commandLine().getErr().printf("embedded %d images (%d skipped as unreadable) -> %s%n", rows.size(), skipped, out);
        return 0;
    }

    private List<float[]> embedBatch(VisionTransformer vit, List<float[]> pixels, int d) {
        int n = pixels.size(), per = pixels.get(0).length;
        float[] input = new float[n * per];
        for (int i = 0; i < n; i++) System.arraycopy(pixels.get(i), 0, input, i * per, per);
        try (NoGrad ignored = NoGrad.enter(); MemoryScope scope = MemoryScope.open()) {
            Var x = Var.constant(Tensor.of(input, n, 3, size, size).to(vit.device()));
            float[] desc = vit.descriptor(x, pool).data().toFloatArray();
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < n; i++) out.add(java.util.Arrays.copyOfRange(desc, i * d, (i + 1) * d));
            return out;
        }
    }
}
