package dev.irtj.cli;

import dev.irtj.index.Catalogue;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.Sidecar;
import dev.irtj.index.VectorIndex;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code irt index}: brings an index folder up to date with a set of image files. */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = {"Index image files for search: new files are described and added, deleted ones removed, changed ones "
                + "(size and modification time, or --hash) described again. Ids are paths relative to the catalogue root "
                + "(the folder given, or the deepest folder holding every input); labels are the class folder's rank "
                + "(root/<class>/...), as irt train --format folder numbers them.",
                "Safe to kill: it commits every --commit-every images, and a rerun completes the work."})
public final class IndexCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    IndexOptions indexOptions;

    @Mixin
    ModelSourceOptions model;

    @Option(names = "--images", arity = "1..*", paramLabel = "DIR|FILE",
            description = "Image folders (searched recursively) and files: the whole catalogue; indexed images not among them are removed.")
    List<Path> images;

    @Option(names = "--list", paramLabel = "FILE", description = "A file of image paths, one a line (relative to the list's folder; '#' comments); instead of --images.")
    Path list;

    @Option(names = "--metadata", paramLabel = "FILE",
            description = "User fields per image: a CSV with a header row and a 'path' column, or JSON lines with a 'path' key "
                    + "(paths relative to the catalogue root); an integer 'label' column overrides the folder's label.")
    Path metadata;

    @Option(names = "--hnsw-m", paramLabel = "M", description = "HNSW neighbours per node, 2..512 (default: the index's, else 16).")
    Integer hnswM;

    @Option(names = "--beam-width", paramLabel = "N", description = "HNSW candidates while building the graph, 1..3200 (default: the index's, else 100).")
    Integer beamWidth;

    @Option(names = "--quantize", paramLabel = "none|int8", description = "int8: Lucene's scalar quantization of the graph's vectors (raw floats kept for exact scores); none (default: the index's, else none).")
    String quantize;

    @Option(names = "--exact", arity = "0..1", paramLabel = "true|false",
            description = "Searches of this index are brute force over every vector (small catalogues; exact results); --exact=false goes back to HNSW (default: the index's, else false).")
    Boolean exact;

    @Option(names = "--ef", paramLabel = "N", description = "Default candidates per HNSW search recorded for irt search / serve (default: the index's, else 100).")
    Integer ef;

    @Option(names = "--commit-every", paramLabel = "N", defaultValue = "256", description = "Commit after this many described images (default: ${DEFAULT-VALUE}).")
    int commitEvery;

    @Option(names = "--hash", description = "Judge changes by the files' SHA-256 instead of size and modification time (reads every file).")
    boolean hash;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        // Every input is checked before a model is loaded or an image described.
        if ((images == null) == (list == null)) throw new UsageException("give exactly one of --images DIR|FILE... and --list FILE");
        if (commitEvery < 1) throw new UsageException("--commit-every must be at least 1, got " + commitEvery);
        Catalogue.Selection selection = selection();
        if (metadata != null) {
            try {
                Sidecar.read(metadata);
            } catch (IOException e) {
                throw new UsageException("--metadata " + e.getMessage());
            }
        }
        indexOptions.checkWritable();
        Optional<LuceneIndex.Options> recorded = indexOptions.recordedOptions();
        LuceneIndex.Options options = options(recorded.orElse(LuceneIndex.Options.defaults()));

        try (DescriptorPipeline describer = describer();
             VectorIndex index = indexOptions.openForWriting(LuceneIndex.Identity.of(describer), options)) {
            Catalogue catalogue = new Catalogue(index, describer, new Catalogue.Options(commitEvery, hash, metadata));
            Catalogue.Report report;
            ProgressBar[] bar = {null};
            try {
                report = catalogue.update(selection, new Catalogue.Listener() {
                    @Override
                    public void planned(Catalogue.Plan p) {
                        err.printf("%s: %d images under %s: %d new, %d changed, %d removed, %d to relabel, %d unchanged%n",
                                indexOptions.folder(), p.total(), p.root(), p.added(), p.changed(), p.removed(), p.rewritten(), p.unchanged());
                        err.flush();
                        if (p.toDescribe() > 0) {
                            bar[0] = new ProgressBarBuilder().setTaskName("index").setInitialMax(p.toDescribe()).setUnit(" img", 1)
                                    .showSpeed().setStyle(ProgressBarStyle.ASCII).build();
                        }
                    }

                    @Override
                    public void stepped() {
                        if (bar[0] != null) bar[0].step();
                    }

                    // Undecodable files: the pipeline itself prints one "warning: skipping PATH: reason"
                    // line each (its warnings go to this command's stderr); the count is in the summary.

                    @Override
                    public void committed(int imagesSoFar) {
                        if (bar[0] != null) bar[0].setExtraMessage(" committed " + imagesSoFar);
                    }
                });
            } finally {
                if (bar[0] != null) bar[0].close();
            }
            long count = index.info().count();
            err.printf("indexed %d images in %s (%d described, %d skipped as undecodable, %d removed, %d relabeled)%n", count,
                    indexOptions.folder(), report.described(), report.skipped().size(), report.plan().removed(), report.plan().rewritten());
            if (report.unmatchedMetadataRows() > 0) {
                err.printf("warning: %d rows of %s name no image of the catalogue%n", report.unmatchedMetadataRows(), metadata);
            }
        }
        return 0;
    }

    private Catalogue.Selection selection() throws IOException {
        Catalogue.Selection s;
        try {
            s = images != null ? Catalogue.Selection.of(images) : Catalogue.Selection.fromList(list);
        } catch (NoSuchFileException e) {
            throw new UsageException((images != null ? "--images " : "--list ") + e.getMessage());
        }
        if (s.files().isEmpty()) {
            throw new UsageException("--images " + images + ": no image files (" + String.join(", ", ImageFiles.EXTENSIONS.stream().sorted().toList()) + ")");
        }
        return s;
    }

    /** Explicit flags replace what the index recorded; the rest is kept. */
    private LuceneIndex.Options options(LuceneIndex.Options base) {
        LuceneIndex.Options o = base;
        if (hnswM != null) o = o.withHnswM(flag("--hnsw-m", hnswM, 2, LuceneIndex.Options.MAX_M));
        if (beamWidth != null) {
            o = o.withBeamWidth(flag("--beam-width", beamWidth, 1, LuceneIndex.Options.MAX_BEAM_WIDTH));
        }
        if (quantize != null) {
            try {
                o = o.withQuantization(LuceneIndex.Quantization.parse(quantize));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--quantize must be none or int8, got '" + quantize + "'");
            }
        }
        if (exact != null) o = o.withExact(exact);
        if (ef != null) o = o.withEfSearch(flag("--ef", ef, 1, Integer.MAX_VALUE));
        return o;
    }

    static int flag(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new UsageException(name + " must be " + (max == Integer.MAX_VALUE ? "at least " + min : "in " + min + ".." + max) + ", got " + value);
        }
        return value;
    }

    /** Options that shape a model; with neither --checkpoint nor --weights they would have nothing to shape. */
    static final List<String> SHAPE_OPTIONS = List.of("--model", "--img-size", "--patch", "--dim", "--depth", "--heads", "--mlp-ratio",
            "--drop-path", "--channels", "--pool", "--crop-pct", "--no-pca");
    /** Options of the describer's run (batching, decoding threads, device). */
    static final List<String> RUN_OPTIONS = List.of("--batch", "--workers", "--device");

    /** A usage error naming the first of {@code names} given on the command line. */
    static void refuse(CommandSpec spec, List<String> names, String why) {
        for (String n : names) {
            if (spec.commandLine().getParseResult().hasMatchedOption(n)) throw new UsageException(n + " " + why);
        }
    }

    /**
     * The describer of the model options, else the one the index recorded (reopened from its
     * source with this run's --batch, --workers and --device).
     */
    private DescriptorPipeline describer() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (model.given()) return model.open(err);
        Optional<LuceneIndex.Identity> recorded = indexOptions.recordedIdentity();
        if (recorded.isEmpty()) {
            throw new UsageException("a new index needs a model: --checkpoint RUN, or --weights FILE with --model or a custom shape");
        }
        refuse(spec, SHAPE_OPTIONS, "needs --checkpoint or --weights (without them the index's recorded model is used as it was recorded)");
        if (recorded.get().source().equals("{}")) {
            throw new UsageException("--index " + indexOptions.folder() + " records no model source; give --checkpoint RUN or --weights FILE");
        }
        return model.open(ModelSource.fromJson(recorded.get().source()), err);
    }
}
