package dev.irtj.cli;

import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.DescriptorShards;
import dev.irtj.vit.image.ImageFiles;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code irt embed}: descriptors of image files, folders and list files, streamed to a folder of
 * shards ({@link DescriptorShards}); a rerun into the same folder skips what is done.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Compute descriptors of images (files, folders searched recursively, list files) into a folder of shards; a rerun resumes.")
public final class EmbedCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelSourceOptions model;

    @Option(names = "--images", arity = "1..*", description = "Image files or folders (searched recursively).")
    List<Path> images = new ArrayList<>();

    @Option(names = "--list", description = "A text file of image paths, one per line ('#' starts a comment; relative paths are relative to the list's folder).")
    Path list;

    @Option(names = "--out", required = true, description = "Output folder: manifest.json and shard-NNNNN.safetensors ('descriptors' [n, D] F32, paths in the metadata).")
    Path out;

    @Option(names = "--shard-size", defaultValue = "4096", description = "Descriptors per shard, which bounds memory (default: ${DEFAULT-VALUE}).")
    int shardSize;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (shardSize < 1) throw new UsageException("--shard-size must be at least 1, got " + shardSize);
        List<Path> files = inputs(images, list);
        model.source(); // option checks before the output folder is touched
        try {
            DescriptorShards.checkWritable(out);
        } catch (IOException e) {
            throw new UsageException(e.getMessage());
        }
        try (DescriptorPipeline pipeline = model.open(err);
             DescriptorShards.Writer writer = DescriptorShards.open(out, pipeline, shardSize)) {
            Set<String> done = writer.done();
            List<Path> todo = new ArrayList<>();
            for (Path f : files) if (!done.contains(key(f))) todo.add(f);
            if (!done.isEmpty()) err.printf("resuming %s: %d of %d images already embedded%n", out, files.size() - todo.size(), files.size());
            int[] failed = {0};
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("embed").setInitialMax(todo.size()).setUnit(" img", 1)
                    .showSpeed().setStyle(ProgressBarStyle.ASCII).build()) {
                IOException[] writeError = {null};
                pipeline.describeAll(todo, d -> {
                    if (writeError[0] != null) return;
                    try {
                        writer.add(key(d.file()), d);
                    } catch (IOException e) {
                        writeError[0] = e;
                    }
                    if (!d.ok()) bar.setExtraMessage(" skipped " + ++failed[0]);
                    bar.step();
                });
                if (writeError[0] != null) throw writeError[0];
            }
            writer.flush();
            err.printf("embedded %d images (%d skipped as unreadable) -> %s (%d descriptors of %d values; %s)%n",
                    todo.size() - failed[0], failed[0], out, writer.count(), pipeline.dims(), pipeline.describe());
            if (writer.count() == 0) throw new IllegalStateException("none of the " + files.size() + " images could be decoded");
        }
        return 0;
    }

    /** The path as the user gave it (folder + relative path), '/'-separated: the key a rerun matches. */
    static String key(Path file) {
        return file.normalize().toString().replace('\\', '/');
    }

    /** The files named by --images and --list, in order, each once; problems found before any work. */
    static List<Path> inputs(List<Path> images, Path list) throws IOException {
        if (images.isEmpty() && list == null) throw new UsageException("give --images FILE_OR_FOLDER... or --list FILE");
        Set<Path> files = new LinkedHashSet<>();
        for (Path p : images) {
            if (Files.isDirectory(p)) {
                List<Path> found = ImageFiles.walk(p);
                if (found.isEmpty()) {
                    throw new UsageException("--images " + p + ": no image files (" + String.join(", ", new java.util.TreeSet<>(ImageFiles.EXTENSIONS)) + ") under it");
                }
                files.addAll(found);
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new UsageException("--images " + p + ": no such file or folder");
            }
        }
        if (list != null) {
            if (!Files.isRegularFile(list)) throw new UsageException("--list " + list + ": no such file");
            List<ImageFiles.Listed> listed;
            try {
                listed = ImageFiles.readList(list);
            } catch (IOException e) {
                throw new UsageException("--list " + e.getMessage());
            }
            listed.forEach(l -> files.add(l.path()));
            int n = listed.size();
            if (n == 0) throw new UsageException("--list " + list + ": lists no image path");
        }
        return new ArrayList<>(files);
    }
}
