package dev.irtj.kernels.cuda;

import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract between CudaBackend and the CUDA sources, checked without a GPU by reading
 * {@code native/src/cuda/*.cu}: every kernel symbol {@link CudaKernel} can name exists in its
 * family's file (and that family's fatbin is packaged), every {@code extern "C" __global__}
 * kernel of the files is one CudaKernel names, and the op-code enums of the files list the Java
 * enums' constants in order (a code is the ordinal). The kernels' symbols are mostly made by
 * macros ({@code IRTJ_SOFTMAX(float, f32)}), so the test expands each file's function-like
 * macros the way the C preprocessor does for these simple cases: parameters replaced as whole
 * words, then {@code ##} pasting.
 */
class CudaContractTest {
    private static final Path SOURCES = Path.of("..", "native", "src", "cuda");
    private static final Path FATBINS = Path.of("..", "native", "src", "main", "resources", "dev", "irtj", "native");
    private static final Pattern KERNEL = Pattern.compile(
            "extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\([^)]*\\)\\s*)?(irtj_\\w+)\\s*\\(");
    private static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+(\\w+)\\(([^)]*)\\)(.*)$");
    private static final Pattern ENUM = Pattern.compile("enum\\s+(\\w+)\\s*\\{([^}]*)}");

    /** Kernel symbols per family file (the file name without .cu). */
    private static Map<String, Set<String>> kernelsByFamily() throws IOException {
        assertTrue(Files.isDirectory(SOURCES), "the CUDA sources are expected at " + SOURCES.toAbsolutePath());
        Map<String, Set<String>> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".cu")).sorted()::iterator) {
                String family = f.getFileName().toString().replace(".cu", "");
                out.put(family, kernels(Files.readString(f)));
            }
        }
        return out;
    }

    /** The kernel symbols of one source: those written out, and those its macros expand to. */
    static Set<String> kernels(String source) {
        String text = source.replace("\\\n", " ");
        Map<String, String[]> macros = new HashMap<>();
        Matcher d = DEFINE.matcher(text);
        while (d.find()) macros.put(d.group(1), new String[] {d.group(2), d.group(3)});
        StringBuilder expanded = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.startsWith("#define")) continue;
            Matcher call = Pattern.compile("^\\s*(\\w+)\\((.*)\\)\\s*;?\\s*$").matcher(line);
            if (call.matches() && macros.containsKey(call.group(1))) {
                String[] macro = macros.get(call.group(1));
                String[] params = macro[0].split(","), args = call.group(2).split(",");
                assertEquals(params.length, args.length, "arguments of " + line.trim());
                // The one string literal in these macros: kept from substitution, as cpp does
                // (a parameter named C must not turn extern "C" into extern "long long").
                String body = macro[1].replace("extern \"C\"", "EXTERN_C_LITERAL");
                for (int i = 0; i < params.length; i++) {
                    body = body.replaceAll("\\b" + Pattern.quote(params[i].trim()) + "\\b", Matcher.quoteReplacement(args[i].trim()));
                }
                expanded.append(body.replaceAll("\\s*##\\s*", "").replace("EXTERN_C_LITERAL", "extern \"C\"")).append('\n');
            } else {
                expanded.append(line).append('\n');
            }
        }
        Set<String> names = new TreeSet<>();
        Matcher k = KERNEL.matcher(expanded);
        while (k.find()) names.add(k.group(1));
        return names;
    }

    @Test
    void everyKernelJavaLaunchesExistsInItsFamilyAndEveryFamilyKernelIsKnownToJava() throws IOException {
        Map<String, Set<String>> cu = kernelsByFamily();
        assertTrue(cu.values().stream().mapToInt(Set::size).sum() > 50, "kernels found in the sources: " + cu);
        List<String> missing = new ArrayList<>();
        Map<String, Set<String>> fromJava = new TreeMap<>();
        for (CudaKernel k : CudaKernel.values()) {
            for (CudaKernel.Symbol s : k.symbols()) {
                fromJava.computeIfAbsent(s.module(), m -> new TreeSet<>()).add(s.name());
                if (!cu.getOrDefault(s.module(), Set.of()).contains(s.name())) missing.add(k + " → " + s.module() + ".cu: " + s.name());
            }
            assertTrue(Files.isRegularFile(FATBINS.resolve(k.module + ".fatbin")), k + ": no fatbin " + k.module + ".fatbin is packaged");
        }
        assertEquals(List.of(), missing, "kernels CudaBackend would launch that the .cu files do not define");
        List<String> unknown = new ArrayList<>();
        cu.forEach((family, names) -> {
            for (String n : names) if (!fromJava.getOrDefault(family, Set.of()).contains(n)) unknown.add(family + ".cu: " + n);
        });
        assertEquals(List.of(), unknown, "kernels of the .cu files that CudaKernel does not list");
    }

    /**
     * Start-up resolves every kernel (Cuda's constructor runs CudaKernel.resolveAll with the
     * driver's cuModuleGetFunction): against the sources it finds them all, each once, and a
     * kernel missing from its file stops it in one line that names the kernel and the file.
     */
    @Test
    void startUpResolvesEveryKernelOfTheSourcesAndNamesAMissingOne() throws IOException {
        Map<String, Set<String>> byFamily = kernelsByFamily();
        Set<String> asked = new TreeSet<>();
        CudaKernel.resolveAll(s -> {
            assertTrue(asked.add(s.module() + "/" + s.name()), "resolved twice: " + s);
            return byFamily.getOrDefault(s.module(), Set.of()).contains(s.name()) ? null : "not in the source";
        });
        int inSources = byFamily.values().stream().mapToInt(Set::size).sum();
        assertEquals(inSources, asked.size(), "every kernel of the sources is resolved at start-up");
        String missing = CudaKernel.LAYERNORM_BACKWARD_PARAMS_FINISH.of(DType.F64).name();
        CudaException e = assertThrows(CudaException.class, () -> CudaKernel.resolveAll(
                s -> s.name().equals(missing) ? "cuModuleGetFunction(layernorm, " + missing + ") failed: CUDA_ERROR_NOT_FOUND (500)" : null));
        assertTrue(e.getMessage().startsWith("kernel " + missing + " (native/src/cuda/layernorm.cu) could not be resolved: cuModuleGetFunction"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void opCodesOfTheCudaSourcesAreTheJavaEnumsInOrder() throws IOException {
        Map<String, List<String>> enums = new HashMap<>();
        for (String family : List.of("elementwise", "reduce")) {
            Matcher m = ENUM.matcher(Files.readString(SOURCES.resolve(family + ".cu")));
            while (m.find()) enums.put(m.group(1), Arrays.stream(m.group(2).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
        }
        assertEquals(names(UnaryOp.values()), enums.get("UnaryCode"), "elementwise.cu UnaryCode vs UnaryOp");
        assertEquals(names(BinaryOp.values()), enums.get("BinaryCode"), "elementwise.cu BinaryCode vs BinaryOp");
        assertEquals(names(ReduceOp.values()), enums.get("ReduceCode"), "reduce.cu ReduceCode vs ReduceOp");
        for (UnaryOp op : UnaryOp.values()) assertEquals(enums.get("UnaryCode").indexOf(op.name()), CudaKernel.code(op));
        for (BinaryOp op : BinaryOp.values()) assertEquals(enums.get("BinaryCode").indexOf(op.name()), CudaKernel.code(op));
        for (ReduceOp op : ReduceOp.values()) assertEquals(enums.get("ReduceCode").indexOf(op.name()), CudaKernel.code(op));
    }

    private static List<String> names(Enum<?>[] values) {
        return Arrays.stream(values).map(Enum::name).toList();
    }

    @Test
    void macroExpansionFindsPastedAndWrittenOutKernels() {
        String src = "#define PAIR(T, SUF) \\\n    extern \"C\" __global__ void irtj_a_##SUF(const T* x) { go<T>(x); } \\\n"
                + "    extern \"C\" __global__ void irtj_b_##SUF##_to_##SUF(T* y) {}\n"
                + "#define ONE(T, SUF, C, CSUF) extern \"C\" __global__ void irtj_w_##SUF##_##CSUF(const C* c) {}\n"
                + "PAIR(float, f32)\nPAIR(long long, i64)\nONE(float, f32, double, f64)\n"
                + "extern \"C\" __global__ void __launch_bounds__(256) irtj_c(int n) {}\n";
        assertEquals(new TreeSet<>(List.of("irtj_a_f32", "irtj_a_i64", "irtj_b_f32_to_f32", "irtj_b_i64_to_i64", "irtj_c", "irtj_w_f32_f64")),
                kernels(src));
    }

    @Test
    void symbolsNameTheirElementTypesAndRefuseOthers() {
        assertEquals(new CudaKernel.Symbol("softmax", "irtj_softmax_forward_f64"), CudaKernel.SOFTMAX_FORWARD.of(DType.F64));
        assertEquals(new CudaKernel.Symbol("copy", "irtj_copy_i64_to_f32"), CudaKernel.COPY.of(DType.I64, DType.F32));
        assertEquals(new CudaKernel.Symbol("gemm_tf32", "irtj_gemm_tf32"), CudaKernel.GEMM_TF32.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernel.SOFTMAX_FORWARD.of(DType.I64));
        assertEquals("SOFTMAX_FORWARD on cuda is compiled for [F32, F64], not I64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaKernel.WHERE.of(DType.F32));
    }

    @Test
    void aBatchSliceMovesEachOperandByItsBatchStride() {
        CudaGemm.GemmPlan p = new CudaGemm.GemmPlan();
        p.m = 3; p.n = 4; p.k = 5; p.batch = 70000;
        p.aOff = 7; p.aRs = 5; p.aCs = 1; p.aBs = 15;
        p.bOff = 2; p.bRs = 1; p.bCs = 5; p.bBs = 0;
        p.cOff = 1; p.cRs = 4; p.cCs = 1; p.cBs = 12;
        int[] s = p.batchSlice(65535, 4465).args();
        assertEquals(List.of(3, 4, 5, 4465, 7 + 65535 * 15, 5, 1, 15, 2, 1, 5, 0, 1 + 65535 * 12, 4, 1, 12),
                Arrays.stream(s).boxed().toList());
        assertEquals(Arrays.stream(p.args()).boxed().toList(), Arrays.stream(p.batchSlice(0, 70000).args()).boxed().toList());
    }
}
