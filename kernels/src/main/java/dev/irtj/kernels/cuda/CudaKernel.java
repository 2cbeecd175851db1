package dev.irtj.kernels.cuda;

import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.UnaryOp;

import java.util.ArrayList;
import java.util.List;

/**
 * Every kernel CudaBackend launches: the family file it lives in ({@code native/src/cuda/MODULE.cu},
 * loaded as the fatbin of that name) and its {@code extern "C"} symbol, which names its element
 * types (f32, f64, i64) in the places {@code %s} marks, for the types listed per place. The
 * symbols are built here and nowhere else, and {@code CudaContractTest} reads the .cu sources and
 * checks, without a GPU, that each symbol exists in its file and that every kernel in the files is
 * listed here; it also holds the op-code enums of the .cu files equal to {@link #code}'s.
 */
enum CudaKernel {
    COPY("copy", "irtj_copy_%s_to_%s", Types.ALL, Types.ALL),
    FILL("elementwise", "irtj_fill_%s", Types.ALL),
    UNARY("elementwise", "irtj_unary_%s", Types.FLOATING),
    UNARY_BACKWARD("elementwise", "irtj_unary_backward_%s", Types.FLOATING),
    BINARY("elementwise", "irtj_binary_%s", Types.FLOATING),
    WHERE("elementwise", "irtj_where_%s_%s", Types.ALL, Types.ALL),
    BIAS_GELU_FORWARD("gelu", "irtj_bias_gelu_forward_%s", Types.FLOATING),
    BIAS_GELU_BACKWARD("gelu", "irtj_bias_gelu_backward_%s", Types.FLOATING),
    INDEX_SELECT("index", "irtj_index_select_%s", Types.ALL),
    GATHER("index", "irtj_gather_%s", Types.ALL),
    INDEX_ADD("index", "irtj_index_add_%s", Types.ALL),
    SCATTER_ADD("index", "irtj_scatter_add_%s", Types.ALL),
    REDUCE_ROWS("reduce", "irtj_reduce_rows_%s", Types.FLOATING),
    SUM_COLUMNS_PARTIAL("reduce", "irtj_sum_columns_partial_%s", Types.FLOATING),
    SUM_COLUMNS_FINISH("reduce", "irtj_sum_columns_finish_%s", Types.FLOATING),
    ARG_REDUCE_ROWS("reduce", "irtj_arg_reduce_rows_%s", Types.FLOATING),
    TOPK_ROWS("topk", "irtj_topk_rows_%s", Types.FLOATING),
    GEMM("gemm_fp32", "irtj_gemm_%s", Types.FLOATING),
    GEMM_TF32("gemm_tf32", "irtj_gemm_tf32"),
    GEMM_SPLITK("gemm_fp32", "irtj_gemm_splitk_%s", Types.FLOATING),
    GEMM_TF32_SPLITK("gemm_tf32", "irtj_gemm_tf32_splitk"),
    GEMM_SPLITK_REDUCE("gemm_fp32", "irtj_gemm_splitk_reduce_%s", Types.FLOATING),
    SOFTMAX_FORWARD("softmax", "irtj_softmax_forward_%s", Types.FLOATING),
    SOFTMAX_BACKWARD("softmax", "irtj_softmax_backward_%s", Types.FLOATING),
    LAYERNORM_FORWARD("layernorm", "irtj_layernorm_forward_%s", Types.FLOATING),
    LAYERNORM_BACKWARD_INPUT("layernorm", "irtj_layernorm_backward_input_%s", Types.FLOATING),
    LAYERNORM_BACKWARD_PARAMS_PARTIAL("layernorm", "irtj_layernorm_backward_params_partial_%s", Types.FLOATING),
    LAYERNORM_BACKWARD_PARAMS_FINISH("layernorm", "irtj_layernorm_backward_params_finish_%s", Types.FLOATING),
    L2_FORWARD("l2norm", "irtj_l2_forward_%s", Types.FLOATING),
    L2_BACKWARD("l2norm", "irtj_l2_backward_%s", Types.FLOATING),
    ADAMW("adamw", "irtj_adamw_%s", Types.FLOATING);

    /** The element types a kernel is compiled for, per {@code %s} of its symbol. */
    private enum Types {
        ALL(DType.F32, DType.F64, DType.I64),
        FLOATING(DType.F32, DType.F64);

        final List<DType> types;

        Types(DType... types) {
            this.types = List.of(types);
        }
    }

    /** One compiled kernel: its module (fatbin) and symbol. */
    record Symbol(String module, String name) {
    }

    final String module;
    private final String pattern;
    private final Types[] places;

    CudaKernel(String module, String pattern, Types... places) {
        this.module = module;
        this.pattern = pattern;
        this.places = places;
    }

    /** The kernel for these element types, one per {@code %s} of the symbol, in order. */
    Symbol of(DType... types) {
        if (types.length != places.length) {
            throw new IllegalArgumentException(name() + " takes " + places.length + " element type(s), got " + types.length);
        }
        Object[] suffixes = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            if (!places[i].types.contains(types[i])) {
                throw new IllegalArgumentException(name() + " on cuda is compiled for " + places[i].types + ", not " + types[i]);
            }
            suffixes[i] = suffix(types[i]);
        }
        return new Symbol(module, String.format(pattern, suffixes));
    }

    /** Every symbol of this kernel, over all the element types it is compiled for. */
    List<Symbol> symbols() {
        List<DType[]> combos = new ArrayList<>();
        combos.add(new DType[0]);
        for (Types place : places) {
            List<DType[]> next = new ArrayList<>();
            for (DType[] c : combos) {
                for (DType t : place.types) {
                    DType[] d = java.util.Arrays.copyOf(c, c.length + 1);
                    d[c.length] = t;
                    next.add(d);
                }
            }
            combos = next;
        }
        List<Symbol> out = new ArrayList<>();
        for (DType[] c : combos) out.add(of(c));
        return out;
    }

    /** Every symbol of every kernel: what {@link Cuda} resolves at start-up. */
    static List<Symbol> all() {
        List<Symbol> out = new ArrayList<>();
        for (CudaKernel k : values()) out.addAll(k.symbols());
        return out;
    }

    /**
     * Resolves every symbol of {@link #all()} with {@code resolver}, which returns null when the
     * symbol was found or what went wrong; the first failure is thrown as one line naming the
     * kernel, its source file and the remedy.
     */
    static void resolveAll(java.util.function.Function<Symbol, String> resolver) {
        for (Symbol s : all()) {
            String problem = resolver.apply(s);
            if (problem != null) {
                throw new CudaException("kernel " + s.name() + " (native/src/cuda/" + s.module() + ".cu) could not be resolved: "
                        + problem.replace('\n', ' ') + "; the fatbins are built for sm_80 and sm_90 by native/build.sh");
            }
        }
    }

    static String suffix(DType t) {
        return switch (t) {
            case F32 -> "f32";
            case F64 -> "f64";
            case I64 -> "i64";
        };
    }

    // The op codes the kernels switch on: the .cu enums (UnaryCode, BinaryCode in elementwise.cu,
    // ReduceCode in reduce.cu) list the Java enums' constants in the same order, so a code is the
    // constant's ordinal; CudaContractTest compares the lists.

    static int code(UnaryOp op) {
        return op.ordinal();
    }

    static int code(BinaryOp op) {
        return op.ordinal();
    }

    static int code(ReduceOp op) {
        return op.ordinal();
    }
}
