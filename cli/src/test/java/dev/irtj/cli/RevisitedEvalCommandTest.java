package dev.irtj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.irtj.eval.GroundTruthFile;
import dev.irtj.eval.RevisitedMap;
import dev.irtj.eval.Whitening;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.retrieval.RevisitedEvaluation;
import dev.irtj.retrieval.RunConfig;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.ImageSource;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import dev.irtj.vit.image.ImageDecoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code irt eval --format roxford5k} on a mini revisitop layout: a dozen generated JPEGs and a
 * gnd .pkl written by Python's pickle.dump (scripts/make-pickle-fixtures.py). The expected
 * figures are computed here, independently of the command's ranking code: descriptors from the
 * same pipeline, queries cropped to their boxes, each database ranked by sorting dot products,
 * and revisitop's compute_map formula applied to those rankings by {@link RevisitedMap#fromRanks}.
 */
class RevisitedEvalCommandTest {
    static final ViTConfig TINY = ViTConfig.of(32, 8, 3, 16, 1, 2, 4);
    static final String[] MODEL = {"--img-size", "32", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2"};

    @TempDir
    static Path dir;
    static Path data;
    static Path weights;
    static GroundTruthFile gnd;

    @BeforeAll
    static void miniLayout() throws IOException {
        data = Files.createDirectories(dir.resolve("roxford5k"));
        try (InputStream in = RevisitedEvalCommandTest.class.getResourceAsStream("/roxford-mini/gnd_roxford5k.pkl")) {
            Files.copy(in, data.resolve("gnd_roxford5k.pkl"));
        }
        gnd = GroundTruthFile.read(data.resolve("gnd_roxford5k.pkl"));
        assertEquals(12, gnd.imlist().size());
        Path jpg = Files.createDirectories(data.resolve("jpg"));
        Rng rng = new Rng(11);
        for (String name : gnd.imlist()) {
            BufferedImage img = new BufferedImage(48, 40, BufferedImage.TYPE_INT_RGB);
            int base = rng.nextInt(1 << 24);
            for (int y = 0; y < 40; y++) {
                for (int x = 0; x < 48; x++) {
                    int blob = ((x / 12) * 7 + (y / 10) * 3 + base) & 0xff;
                    img.setRGB(x, y, ((base >> 16) & 0xff) << 16 | blob << 8 | (rng.nextInt(64) + (x * 4)) & 0xff);
                }
            }
            ImageIO.write(img, "jpg", jpg.resolve(name + ".jpg").toFile());
        }
        weights = dir.resolve("tiny.safetensors");
        TimmCheckpoint.save(new VisionTransformer(TINY, new Rng(5), DType.F32), weights);
    }

    private static String[] args(String... more) {
        List<String> a = new ArrayList<>(List.of("eval", "--format", "roxford5k", "--data", data.toString(), "--weights", weights.toString()));
        a.addAll(List.of(MODEL));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Database indices by decreasing dot product (the smaller index first on a tie), per query. */
    static int[][] ranks(float[] q, float[] x, int dims) {
        int nq = q.length / dims, nx = x.length / dims;
        int[][] out = new int[nq][];
        for (int i = 0; i < nq; i++) {
            double[] s = new double[nx];
            for (int j = 0; j < nx; j++) for (int k = 0; k < dims; k++) s[j] += (double) q[i * dims + k] * x[j * dims + k];
            out[i] = IntStream.range(0, nx).boxed().sorted(Comparator.<Integer>comparingDouble(j -> -s[j]).thenComparingInt(j -> j))
                    .mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    private static void assertFiguresAre(JsonNode json, int[][] ranks) {
        for (RevisitedMap.Protocol p : RevisitedMap.Protocol.values()) {
            RevisitedMap.Result want = RevisitedMap.fromRanks(ranks, gnd.gnd(), p, RevisitedMap.DEFAULT_KAPPAS);
            JsonNode got = json.get(p.name().toLowerCase(java.util.Locale.ROOT));
            // Both come from the same F32 descriptors; only the order of a float dot product differs.
            assertEquals(want.map(), got.get("mAP").asDouble(), 1e-9, p + " mAP");
            for (int k : RevisitedMap.DEFAULT_KAPPAS) assertEquals(want.meanPrecisionAt(k), got.get("mP@" + k).asDouble(), 1e-9, p + " mP@" + k);
        }
    }

    @Test
    void mapMatchesRevisitopsFormulaOnTheSameRankingWithQueriesCroppedToTheirBoxes() throws IOException {
        Path out = dir.resolve("out/eval.json");
        CliTest.Result r = irt(args("--pool", "gem", "--out", out.toString(), "--workers", "1"));
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());
        assertTrue(r.out().contains("Easy") && r.out().contains("Medium") && r.out().contains("Hard") && r.out().contains("mP@10"), r.out());
        JsonNode json = RunConfig.json().readTree(out.toFile());
        assertEquals(3, json.get("queries").asInt());
        assertEquals(12, json.get("database").asInt());
        assertEquals("gem", json.get("pooling").asText());

        try (DescriptorPipeline p = DescriptorPipeline.open(new ModelSource.Weights(weights, TINY, Pooling.GEM, null),
                DescriptorPipeline.Options.defaults().withWorkers(1))) {
            List<ImageSource> db = new ArrayList<>();
            for (String n : gnd.imlist()) db.add(ImageSource.file(data.resolve("jpg/" + n + ".jpg")));
            float[] x = p.describeSources(db).vectors().toFloatArray();
            float[] q = new float[3 * 16];
            for (int i = 0; i < 3; i++) {
                BufferedImage img = ImageDecoder.read(data.resolve("jpg/" + gnd.qimlist().get(i) + ".jpg"));
                double[] b = gnd.queryBoxes().get(i);
                // PIL's crop: rounded box, black outside the image (the boxes reach below these 40-px images).
                BufferedImage crop = img.getSubimage((int) Math.rint(b[0]), (int) Math.rint(b[1]),
                        (int) Math.rint(b[2]) - (int) Math.rint(b[0]), 40 - (int) Math.rint(b[1]));
                BufferedImage padded = new BufferedImage(crop.getWidth(), (int) Math.rint(b[3]) - (int) Math.rint(b[1]), BufferedImage.TYPE_INT_RGB);
                padded.getGraphics().drawImage(crop, 0, 0, null);
                System.arraycopy(p.describe(padded), 0, q, i * 16, 16);
            }
            int[][] rk = ranks(q, x, 16);
            assertFiguresAre(json, rk);
            // Not a vacuous check: cropping changes the query descriptors.
            float[] whole = p.describe(ImageDecoder.read(data.resolve("jpg/" + gnd.qimlist().get(0) + ".jpg")));
            double diff = 0;
            for (int k = 0; k < 16; k++) diff += Math.abs(whole[k] - q[k]);
            assertTrue(diff > 1e-3, "the crop matters: " + diff);
        }
    }

    @Test
    void multiScaleAndWhiteningRunAndTheWhiteningIsSavedBesideTheFigures() throws IOException {
        Path out = dir.resolve("ms/eval.json");
        CliTest.Result r = irt(args("--scales", "1,0.7071,0.5", "--whiten-on", data.resolve("jpg").toString(), "--out", out.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("scales 1 (32 px), 0.7071 (24 px), 0.5 (16 px)"), r.err());
        JsonNode json = RunConfig.json().readTree(out.toFile());
        assertEquals("whiten.safetensors", json.get("whitening").asText());
        SafeTensors.File w = SafeTensors.read(out.getParent().resolve("whiten.safetensors"));
        assertEquals(Whitening.KIND, w.meta("kind"));
        Whitening whitening = Whitening.fromTensors(w.tensors());
        assertEquals(11, whitening.outputDims(), "12 learning images span 11 dimensions");
        for (String p : List.of("easy", "medium", "hard")) {
            double m = json.get(p).get("mAP").asDouble();
            assertTrue(m > 0 && m <= 1, p + " " + m);
        }
    }

    @Test
    void withARunFolderTheFiguresAndTheWhiteningGoBesideItsRecallFigures() throws IOException {
        Path run = dir.resolve("run");
        CliTest.Result t = irt("train", "--data", CliTest.imageFolder(dir.resolve("folder"), 3, 4).toString(), "--format", "folder",
                "--img-size", "32", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2", "--iters", "2", "--batch", "6",
                "--out", run.toString(), "--checkpoint-every", "2", "--log-every", "1");
        assertEquals(0, t.code(), t.err());
        boolean hadRecall = Files.exists(run.resolve("eval.json"));
        byte[] recall = hadRecall ? Files.readAllBytes(run.resolve("eval.json")) : null;
        CliTest.Result r = irt("eval", "--format", "roxford5k", "--data", data.toString(), "--checkpoint", run.toString(),
                "--whiten-on", data.resolve("jpg").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(run.resolve("eval-roxford5k.json")), r.err());
        assertTrue(Files.isRegularFile(run.resolve("whiten.safetensors")), r.err());
        if (hadRecall) assertTrue(java.util.Arrays.equals(recall, Files.readAllBytes(run.resolve("eval.json"))), "Recall figures untouched");
        else assertTrue(!Files.exists(run.resolve("eval.json")), "no eval.json written over");
    }

    @Test
    void badLayoutsAndMisplacedFlagsAreRefusedInOneLineBeforeWork() throws IOException {
        Path broken = Files.createDirectories(dir.resolve("broken/jpg"));
        Files.copy(data.resolve("gnd_roxford5k.pkl"), broken.getParent().resolve("gnd_roxford5k.pkl"));
        Files.copy(data.resolve("jpg/img_00.jpg"), broken.resolve("img_00.jpg"));
        List<String> a = new ArrayList<>(List.of(args()));
        a.set(a.indexOf(data.toString()), broken.getParent().toString());
        CliTest.Result r = irt(a.toArray(String[]::new));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("11 of 12 database images are missing, first " + broken.resolve("img_01.jpg")), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        CliTest.Result noGnd = irt(args("--gnd", dir.resolve("nope.pkl").toString()));
        assertEquals(1, noGnd.code());
        assertTrue(noGnd.err().contains("nope.pkl: no such ground-truth file"), noGnd.err());

        CliTest.Result whitenNowhere = irt(args("--whiten-on", data.resolve("jpg").toString()));
        assertEquals(2, whitenNowhere.code());
        assertTrue(whitenNowhere.err().contains("--whiten-on saves the whitening with the figures"), whitenNowhere.err());

        CliTest.Result recall = irt(args("--recall", "1"));
        assertEquals(2, recall.code());
        assertTrue(recall.err().contains("--recall does not apply to --format roxford5k"), recall.err());

        CliTest.Result scalesOnFolder = irt("eval", "--format", "folder", "--data", data.resolve("jpg").toString(), "--weights", weights.toString(),
                "--img-size", "32", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2", "--scales", "1,0.5");
        assertEquals(2, scalesOnFolder.code());
        assertTrue(scalesOnFolder.err().contains("--scales applies to --format roxford5k|rparis6k"), scalesOnFolder.err());

        CliTest.Result train = irt("train", "--format", "rparis6k", "--data", data.toString(), "--out", dir.resolve("t").toString(),
                "--img-size", "32", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2");
        assertEquals(2, train.code(), train.err());
        assertTrue(train.err().contains("--format rparis6k is revisitop's evaluation layout"), train.err());
    }

    @Test
    void pilCropRoundsHalvesToEvenAndPadsBlack() {
        BufferedImage img = new BufferedImage(10, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 10; x++) img.setRGB(x, y, (x * 20) << 16 | (y * 30) << 8 | 7);
        BufferedImage c = RevisitedEvaluation.crop(img, new double[] {2.5, 1.5, 4.49, 9.2}); // -> [2, 2, 4, 9)
        assertEquals(2, c.getWidth());
        assertEquals(7, c.getHeight());
        assertEquals(img.getRGB(2, 2), c.getRGB(0, 0));
        assertEquals(img.getRGB(3, 7), c.getRGB(1, 5));
        assertEquals(0xff000000, c.getRGB(1, 6), "outside the image: black");
    }
}
