package dev.irtj.retrieval;

import dev.irtj.eval.GroundTruthFile;
import dev.irtj.eval.RevisitedMap;
import dev.irtj.eval.Whitening;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.ImageSource;
import dev.irtj.vit.image.ImageDecoder;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Revisited Oxford / Paris evaluation on revisitop's layout: {@code DIR/jpg/NAME.jpg} for every
 * name of {@code imlist} (the database, in descriptor order) and {@code qimlist} (the queries),
 * and the ground truth {@code DIR/gnd_roxford5k.pkl} (or another file). Each query image is
 * cropped to its box before it is described, as revisitop's example does with PIL's
 * {@code Image.crop(bbx)}; the database images are described whole. mAP and mP@1, 5, 10 for
 * the Easy, Medium and Hard protocols come from {@link RevisitedMap}.
 */
public final class RevisitedEvaluation {
    private RevisitedEvaluation() {
    }

    /**
     * A checked layout: every image exists, every query has a box of positive area.
     *
     * @param gnd       the ground truth
     * @param database  one file per imlist name, in order
     * @param queries   one file per qimlist name, in order
     */
    public record Layout(GroundTruthFile gnd, List<Path> database, List<Path> queries) {
        public Layout {
            database = List.copyOf(database);
            queries = List.copyOf(queries);
        }
    }

    /**
     * Checks {@code dir}'s layout against {@code gndFile} before any work: the ground truth must
     * name its database and query images, each must exist as {@code dir/jpg/NAME.jpg}, and each
     * query must have a box.
     *
     * @throws IOException with one line naming the file or image at fault
     */
    public static Layout layout(Path dir, Path gndFile) throws IOException {
        if (!Files.isRegularFile(gndFile)) throw new IOException(gndFile + ": no such ground-truth file (revisitop's gnd_*.pkl)");
        GroundTruthFile g = GroundTruthFile.read(gndFile);
        if (g.imlist().isEmpty() || g.qimlist().isEmpty()) {
            throw new IOException(gndFile + ": names no " + (g.imlist().isEmpty() ? "database images (imlist)" : "query images (qimlist)"));
        }
        Path jpg = dir.resolve("jpg");
        if (!Files.isDirectory(jpg)) throw new IOException(jpg + ": no such folder (revisitop's layout keeps the images in DIR/jpg)");
        List<Path> db = files(jpg, g.imlist(), "database");
        List<Path> q = files(jpg, g.qimlist(), "query");
        for (int i = 0; i < q.size(); i++) {
            double[] b = g.queryBoxes().get(i);
            if (b == null) throw new IOException(gndFile + ": query " + i + " (" + g.qimlist().get(i) + ") has no bbx");
            int[] r = pixelBox(b);
            if (r[2] <= r[0] || r[3] <= r[1]) throw new IOException(gndFile + ": query " + i + " (" + g.qimlist().get(i) + ") has an empty box " + java.util.Arrays.toString(b));
        }
        return new Layout(g, db, q);
    }

    private static List<Path> files(Path jpg, List<String> names, String what) throws IOException {
        List<Path> out = new ArrayList<>(names.size());
        int missing = 0;
        Path first = null;
        for (String n : names) {
            Path f = jpg.resolve(n + ".jpg");
            if (!Files.isRegularFile(f)) {
                missing++;
                if (first == null) first = f;
            }
            out.add(f);
        }
        if (missing > 0) throw new IOException(missing + " of " + names.size() + " " + what + " images are missing, first " + first);
        return out;
    }

    /** PIL's box rounding: each coordinate to the nearest integer, halves to even (Python's round). */
    static int[] pixelBox(double[] b) {
        int[] r = new int[4];
        for (int i = 0; i < 4; i++) r[i] = (int) Math.rint(b[i]);
        return r;
    }

    /**
     * {@code image.crop(bbx)} as PIL does it: the box [x1, x2) × [y1, y2) after rounding; parts
     * outside the image are black.
     */
    public static BufferedImage crop(BufferedImage image, double[] bbx) {
        int[] r = pixelBox(bbx);
        int w = r[2] - r[0], h = r[3] - r[1];
        if (w <= 0 || h <= 0) throw new IllegalArgumentException("empty crop box " + java.util.Arrays.toString(bbx));
        int type = image.getType() == BufferedImage.TYPE_CUSTOM ? BufferedImage.TYPE_INT_RGB : image.getType();
        BufferedImage out = new BufferedImage(w, h, type);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(java.awt.Color.BLACK);
            g.fillRect(0, 0, w, h);
            g.drawImage(image, -r[0], -r[1], null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /**
     * Descriptors of queries and database.
     *
     * @param queries  [Q, dims]
     * @param database [N, dims]
     */
    public record Descriptors(Tensor queries, Tensor database) {
    }

    /** Describes the cropped queries and the database; {@code progress} gets a line per stage. */
    public static Descriptors describe(MultiScaleDescriber d, Layout l, Consumer<String> progress) throws IOException {
        progress.accept("describing " + l.database().size() + " database images (" + d.describe() + ")");
        List<ImageSource> db = new ArrayList<>();
        for (Path p : l.database()) db.add(ImageSource.file(p));
        Tensor database = d.describe(db);
        progress.accept("describing " + l.queries().size() + " queries cropped to their boxes");
        List<Tensor> rows = new ArrayList<>();
        for (int i = 0; i < l.queries().size(); i++) {
            Path f = l.queries().get(i);
            BufferedImage img = ImageDecoder.read(f);
            rows.add(d.describe(crop(img, l.gnd().queryBoxes().get(i))));
        }
        return new Descriptors(Tensor.cat(rows, 0), database);
    }

    /** Easy, Medium and Hard results, whitened first when {@code w} is given. */
    public static Map<RevisitedMap.Protocol, RevisitedMap.Result> evaluate(Descriptors d, Layout l, Whitening w) {
        Tensor q = w == null ? d.queries() : w.apply(d.queries());
        Tensor x = w == null ? d.database() : w.apply(d.database());
        return RevisitedMap.evaluateAll(q, x, l.gnd().gnd(), RevisitedMap.DEFAULT_KAPPAS);
    }
}
