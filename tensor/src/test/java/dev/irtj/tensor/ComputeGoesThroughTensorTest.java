package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Code above {@code tensor} computes through {@link Tensor} (and Var above it), never through a
 * {@link Backend} directly: Tensor's methods check devices, dtypes and shapes once, and a backend
 * only executes. Read from the main sources of every module above tensor except those that
 * implement or measure backends ({@code kernels}, {@code bench}): no use of the type
 * {@code Backend}, no {@code .backend()} call, and a {@code Backends} lookup only for a backend's
 * name (the CLI's report of what it runs on).
 */
class ComputeGoesThroughTensorTest {
    private static final List<String> ABOVE_TENSOR = List.of("autograd", "vit", "eval", "train", "retrieval", "index",
            "solr", "serve", "cli", "solr-cli-it");
    private static final Set<String> LOOKUP_USES = Set.of("name", "unavailableReason", "deviceKind");
    private static final Pattern BACKEND_TYPE = Pattern.compile("\\bBackend\\b");
    private static final Pattern BACKEND_CALL = Pattern.compile("\\.backend\\(\\)");
    private static final Pattern LOOKUP = Pattern.compile("\\bBackends\\.\\w+\\([^;]*?\\)\\s*\\.\\s*(\\w+)\\s*\\(");
    private static final Pattern COMMENTS = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*");

    @Test
    void noModuleAboveTensorCallsABackend() throws IOException {
        List<String> found = new ArrayList<>();
        int files = 0;
        for (String module : ABOVE_TENSOR) {
            Path src = Path.of("..", module, "src", "main", "java");
            if (!Files.isDirectory(src)) continue;
            try (Stream<Path> walk = Files.walk(src)) {
                for (Path f : (Iterable<Path>) walk.filter(p -> p.toString().endsWith(".java")).sorted()::iterator) {
                    files++;
                    for (String v : violations(Files.readString(f))) found.add(Path.of("..").relativize(f) + ": " + v);
                }
            }
        }
        assertTrue(files > 100, "sources read above tensor: " + files);
        assertEquals(List.of(), found, "code above tensor must compute through Tensor, not a Backend");
    }

    /** The lines of one source that reach a backend other than through Tensor (comments ignored). */
    static List<String> violations(String source) {
        String code = COMMENTS.matcher(source).replaceAll(m -> m.group().replaceAll("[^\\n]", " "));
        List<String> out = new ArrayList<>();
        String[] lines = code.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (BACKEND_TYPE.matcher(line).find()) out.add("line " + (i + 1) + " uses the type Backend");
            if (BACKEND_CALL.matcher(line).find()) out.add("line " + (i + 1) + " calls .backend()");
            Matcher m = LOOKUP.matcher(line);
            while (m.find()) if (!LOOKUP_USES.contains(m.group(1))) out.add("line " + (i + 1) + " computes through " + m.group());
        }
        return out;
    }

    @Test
    void theScanSeesEachWayAround() {
        String bad = "import dev.irtj.tensor.Backend;\nclass A {\n  Tensor f(Tensor x) { return x.backend().softmax(x, 1, false); }\n"
                + "  Tensor g(Tensor x) { return Backends.forDevice(x.device()).unary(UnaryOp.EXP, x, 0, 0); }\n}\n";
        assertEquals(List.of("line 1 uses the type Backend", "line 3 calls .backend()",
                "line 4 computes through Backends.forDevice(x.device()).unary("), violations(bad));
        String fine = "/** Not a {@link Backend}: see Backend.gemm. */\nclass B {\n  // x.backend() in a comment\n"
                + "  String n(Device d) { return Backends.forDevice(d).name(); }\n  Tensor f(Tensor x) { return x.softmax(); }\n}\n";
        assertEquals(List.of(), violations(fine));
    }
}
