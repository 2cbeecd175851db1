package dev.irtj.cli;

import dev.irtj.train.data.Cub200;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Idx;
import dev.irtj.train.data.ImageFolder;
import dev.irtj.train.data.InShop;
import dev.irtj.train.data.SfM120k;
import dev.irtj.train.data.StanfordOnlineProducts;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongPredicate;

/**
 * A dataset on disk and its splits. For {@code folder}, DIR/train and DIR/test are used when
 * both exist, otherwise DIR for both; for {@code mnist}, the train-* files when present,
 * otherwise the t10k-* files for both (split by class with --train-classes/--test-classes).
 */
public final class DataOptions {
    public enum Format { FOLDER, SOP, CUB, INSHOP, MNIST, ROXFORD5K, RPARIS6K, SFM120K }

    @Option(names = "--data", required = true, description = "Dataset root folder.")
    Path dir;

    @Option(names = "--format", required = true, description = "Layout: ${COMPLETION-CANDIDATES}.")
    Format format;

    @Option(names = "--train-classes", description = "Keep only these labels for training, e.g. 0-4 or 1,3,5-9.")
    String trainClasses;

    @Option(names = "--test-classes", description = "Keep only these labels for evaluation.")
    String testClasses;

    int channels() {
        return format == Format.MNIST ? 1 : 3;
    }

    Dataset train() throws IOException {
        Dataset d = switch (format) {
            case FOLDER -> ImageFolder.read(split("train"));
            case SOP -> StanfordOnlineProducts.read(dir, StanfordOnlineProducts.Split.TRAIN);
            case CUB -> Cub200.read(dir, Cub200.Split.TRAIN);
            case INSHOP -> InShop.read(dir, InShop.Split.TRAIN);
            case MNIST -> Idx.readMnistLayout(dir, hasMnistTrain(), null);
            case ROXFORD5K, RPARIS6K -> throw revisitedOnlyForEval();
            case SFM120K -> throw sfmOnlyForTuples();
        };
        return filter(d, trainClasses, "--train-classes");
    }

    /** The evaluation set (In-Shop: the queries). */
    Dataset test() throws IOException {
        Dataset d = switch (format) {
            case FOLDER -> ImageFolder.read(split("test"));
            case SOP -> StanfordOnlineProducts.read(dir, StanfordOnlineProducts.Split.TEST);
            case CUB -> Cub200.read(dir, Cub200.Split.TEST);
            case INSHOP -> InShop.read(dir, InShop.Split.QUERY);
            case MNIST -> Idx.readMnistLayout(dir, false, null);
            case ROXFORD5K, RPARIS6K -> throw revisitedOnlyForEval();
            case SFM120K -> throw sfmOnlyForTuples();
        };
        return filter(d, testClasses, "--test-classes");
    }

    /** Whether the format is revisitop's Oxford/Paris layout (mAP with queries and ground truth, no classes). */
    boolean revisited() {
        return format == Format.ROXFORD5K || format == Format.RPARIS6K;
    }

    /** The dataset name revisitop uses, e.g. roxford5k. */
    String revisitedName() {
        return format.name().toLowerCase(java.util.Locale.ROOT);
    }

    private UsageException revisitedOnlyForEval() {
        return new UsageException("--format " + revisitedName() + " is revisitop's evaluation layout (queries, database and gnd_"
                + revisitedName() + ".pkl): irt eval reads it, it has no labelled splits to train or embed");
    }

    /** The retrieval-SfM-120k training split (DIR/retrieval-SfM-120k.pkl, DIR/ims/), for tuple training. */
    SfM120k sfm120k() throws IOException {
        return SfM120k.read(dir, SfM120k.Split.TRAIN);
    }

    private UsageException sfmOnlyForTuples() {
        return new UsageException("--format sfm120k is retrieval-SfM-120k's layout of training tuples: irt train reads it; "
                + "evaluate the trained model with irt eval --format roxford5k|rparis6k");
    }

    /** In-Shop's gallery; null for the all-vs-all formats. */
    Dataset gallery() throws IOException {
        return format == Format.INSHOP ? filter(InShop.read(dir, InShop.Split.GALLERY), testClasses, "--test-classes") : null;
    }

    private Path split(String name) {
        Path train = dir.resolve("train"), test = dir.resolve("test");
        if (Files.isDirectory(train) && Files.isDirectory(test)) return dir.resolve(name);
        // DIR/train alone: its classes are the data (reading DIR would make "train" a class).
        return Files.isDirectory(train) ? train : dir;
    }

    /**
     * What the user should know about the splits before training on them: a test split that is
     * the training split (Recall is then measured on the training images and is optimistic), or
     * a {@code train} folder without its {@code test} sibling.
     */
    java.util.List<String> splitWarnings() throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        boolean sameClasses = java.util.Objects.equals(trainClasses, testClasses);
        if (format == Format.FOLDER) {
            boolean train = Files.isDirectory(dir.resolve("train")), test = Files.isDirectory(dir.resolve("test"));
            if (train && !test) {
                out.add("warning: " + dir.resolve("train") + " has no test/ folder beside it; testing on the training images"
                        + (sameClasses ? "" : " of the --test-classes"));
            } else if (!train && test) {
                out.add("warning: " + dir.resolve("test") + " has no train/ folder beside it; all of " + dir + " (test/ as a class) is read for both splits");
            }
            if (!(train && test) && sameClasses) {
                out.add("warning: training and testing on the same images of " + dir + " (Recall will be optimistic); "
                        + "give DIR/train and DIR/test folders, or --train-classes/--test-classes for a zero-shot split");
            }
        } else if (format == Format.MNIST && !hasMnistTrain() && sameClasses) {
            out.add("warning: only the t10k files are in " + dir + ": training and testing on the same images (Recall will be optimistic); "
                    + "use --train-classes/--test-classes for a zero-shot split");
        }
        return out;
    }

    private boolean hasMnistTrain() throws IOException {
        try (var s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("train-images"));
        }
    }

    private static Dataset filter(Dataset d, String spec, String flag) {
        if (spec == null) return d;
        LongPredicate keep = parseClasses(spec, flag);
        Dataset f = d.filterLabels(keep);
        if (f.size() == 0) throw new UsageException(flag + " " + spec + " keeps none of the " + d.size() + " images of " + d.name());
        return f;
    }

    /** "0-4,7" → a predicate; fails with the expected syntax. */
    static LongPredicate parseClasses(String spec, String flag) {
        LongPredicate p = x -> false;
        for (String part : spec.split(",")) {
            String s = part.trim();
            try {
                int dash = s.indexOf('-', 1);
                long lo = Long.parseLong(dash < 0 ? s : s.substring(0, dash).trim());
                long hi = dash < 0 ? lo : Long.parseLong(s.substring(dash + 1).trim());
                if (hi < lo) throw new NumberFormatException();
                LongPredicate prev = p;
                p = x -> prev.test(x) || (x >= lo && x <= hi);
            } catch (NumberFormatException e) {
                throw new UsageException(flag + ": expected labels like 0-4 or 1,3,5-9, got '" + spec + "'");
            }
        }
        return p;
    }
}
