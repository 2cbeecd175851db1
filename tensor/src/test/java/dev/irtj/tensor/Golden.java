package dev.irtj.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The PyTorch float64 reference tensors (see {@code golden/README.md}) and a tolerance check for
 * comparing against them. Shipped in the tensor test-jar so every module's tests can use it.
 *
 * <p>The folder is the one named by {@code -Dirtj.golden=DIR} when set and non-blank, else the
 * copy in the tensor module's test resources ({@code golden/} on the classpath). When that copy
 * sits inside the test-jar (tests of another module), it is extracted once to a temporary
 * folder that is deleted when the JVM exits.
 */
public final class Golden {
    /** System property naming a folder of reference files to use instead of the bundled copy. */
    public static final String PROPERTY = "irtj.golden";
    private static final String MARKER = "golden/ops.safetensors";

    private static Path bundledDir;

    private Golden() {
    }

    /** The folder holding the reference files. */
    public static Path dir() {
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            Path p = Path.of(prop.trim()).toAbsolutePath();
            if (!Files.isDirectory(p)) {
                throw new IllegalStateException("-D" + PROPERTY + "=" + prop + " is not a directory (" + p + ")");
            }
            return p;
        }
        return bundled();
    }

    private static synchronized Path bundled() {
        if (bundledDir != null) return bundledDir;
        URL url = Golden.class.getClassLoader().getResource(MARKER);
        if (url == null) {
            throw new IllegalStateException("no reference files: -D" + PROPERTY + " is not set and the classpath has no "
                    + MARKER + " (add the irtj-tensor test-jar as a test dependency)");
        }
        bundledDir = locate(url);
        return bundledDir;
    }

    /** The folder of {@code marker}: its parent for a file, an extracted copy for a jar entry. */
    static Path locate(URL marker) {
        try {
            return switch (marker.getProtocol()) {
                case "file" -> Path.of(marker.toURI()).getParent();
                case "jar" -> extract(marker);
                default -> throw new IllegalStateException("cannot read reference files from " + marker);
            };
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot extract reference files from " + marker, ex);
        } catch (URISyntaxException ex) {
            throw new IllegalStateException("cannot locate reference files at " + marker, ex);
        }
    }

    /** Copies every {@code golden/*} entry of the jar holding {@code marker} into a temporary folder. */
    private static Path extract(URL marker) throws IOException {
        JarURLConnection conn = (JarURLConnection) marker.openConnection();
        conn.setUseCaches(false);
        Path dir = Files.createTempDirectory("irtj-golden");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
        try (JarFile jar = conn.getJarFile()) {
            for (Enumeration<JarEntry> en = jar.entries(); en.hasMoreElements(); ) {
                JarEntry e = en.nextElement();
                String name = e.getName();
                if (e.isDirectory() || !name.startsWith("golden/")) continue;
                String rel = name.substring("golden/".length());
                if (rel.isEmpty() || rel.contains("..")) continue;
                Path out = dir.resolve(rel).normalize();
                if (!out.startsWith(dir)) continue;
                Files.createDirectories(out.getParent());
                try (InputStream in = jar.getInputStream(e)) {
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return dir;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort at exit
                }
            });
        } catch (IOException ignored) {
            // best effort at exit
        }
    }

    /** Reads {@code fileName} from {@link #dir()}; fails naming the folder if it is absent or malformed. */
    public static SafeTensors.File load(String fileName) {
        Path dir = dir();
        Path file = dir.resolve(fileName);
        if (!Files.isRegularFile(file)) {
            List<String> present = new ArrayList<>();
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(p -> present.add(p.getFileName().toString()));
            } catch (IOException ignored) {
                // the listing is only a hint
            }
            present.sort(null);
            throw new IllegalStateException("reference file " + fileName + " not found in " + dir + " (folder holds " + present + ")");
        }
        try {
            return SafeTensors.read(file);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read reference file " + file + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Asserts that {@code actual} has {@code expected}'s shape and that every element satisfies
     * {@code |a − b| ≤ atol + rtol·|b|}, with a the actual and b the expected value (dtypes may
     * differ; values are compared as doubles). NaN matches only NaN, an infinity only itself. On
     * failure the message names {@code what}, the number of failing elements, the worst one's
     * index, both values and the tolerance there.
     */
    public static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        if (!(rtol >= 0) || !(atol >= 0)) throw new IllegalArgumentException("tolerances must be >= 0: rtol " + rtol + ", atol " + atol);
        int[] shape = expected.shape();
        if (!Arrays.equals(shape, actual.shape())) {
            throw new AssertionError(what + ": shape " + Shape.str(actual.shape()) + ", expected " + Shape.str(shape));
        }
        double[] b = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        int worst = -1, failures = 0;
        double worstRatio = 0;
        for (int i = 0; i < a.length; i++) {
            double tol = atol + rtol * Math.abs(b[i]);
            double ratio;
            if (Double.isNaN(a[i]) || Double.isNaN(b[i]) || Double.isInfinite(a[i]) || Double.isInfinite(b[i])) {
                boolean same = Double.isNaN(a[i]) ? Double.isNaN(b[i]) : a[i] == b[i];
                ratio = same ? 0 : Double.POSITIVE_INFINITY;
            } else {
                double diff = Math.abs(a[i] - b[i]);
                ratio = diff <= tol ? 0 : tol == 0 ? Double.POSITIVE_INFINITY : diff / tol;
            }
            if (ratio > 0) {
                failures++;
                if (worst < 0 || ratio > worstRatio) {
                    worst = i;
                    worstRatio = ratio;
                }
            }
        }
        if (failures == 0) return;
        double tol = atol + rtol * Math.abs(b[worst]);
        throw new AssertionError(String.format(
                "%s: %d of %d elements outside |a - b| <= atol + rtol*|b| (rtol %.3g, atol %.3g); worst at %s: expected %.17g, actual %.17g, |a - b| = %.3g > %.3g",
                what, failures, a.length, rtol, atol, Arrays.toString(unflatten(worst, shape)), b[worst], a[worst],
                Math.abs(a[worst] - b[worst]), tol));
    }

    /** The multi-dimensional index of row-major position {@code flat} in {@code shape}. */
    static int[] unflatten(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }
}
