package dev.irtj.tensor.pickle;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Python globals a pickle may name, and what calling each one builds. Every call is a small
 * Java function over already-read values (never a reflective lookup, never Python semantics
 * beyond the documented constructor it mirrors), so naming a global can do nothing else.
 *
 * <p>{@link #numpy()}: ordered dicts, latin-1 byte strings ({@code _codecs.encode}, how protocol
 * 2 stores bytes) and numpy arrays, dtypes and scalars, under both numpy 1's
 * {@code numpy.core} and numpy 2's {@code numpy._core} names. {@link TorchArchive} adds
 * PyTorch's tensor rebuilders and storage types.
 */
public final class AllowList {
    /** A call of an allowed global with its positional arguments. */
    @FunctionalInterface
    public interface Call {
        Object call(PyTuple args) throws BadArguments;
    }

    /** An object that takes BUILD's state (as Python's {@code __setstate__}). */
    public interface Buildable {
        void build(Object state) throws BadArguments;
    }

    /** Arguments or state an allowed global does not accept; the unpickler adds where and what. */
    public static final class BadArguments extends Exception {
        private static final long serialVersionUID = 1L;

        public BadArguments(String message) {
            super(message, null, false, false);
        }
    }

    private final Map<String, Call> calls;
    private final Set<String> types;

    private AllowList(Map<String, Call> calls, Set<String> types) {
        this.calls = Collections.unmodifiableMap(new LinkedHashMap<>(calls));
        this.types = Collections.unmodifiableSet(new LinkedHashSet<>(types));
    }

    /** Plain data, ordered dicts and numpy arrays. */
    public static AllowList numpy() {
        Map<String, Call> c = new LinkedHashMap<>();
        c.put("collections.OrderedDict", AllowList::orderedDict);
        c.put("_codecs.encode", AllowList::encode);
        c.put("__builtin__.bytes", AllowList::bytes);
        c.put("builtins.bytes", AllowList::bytes);
        c.put("__builtin__.bytearray", AllowList::bytes);
        for (String b : List.of("__builtin__.set", "builtins.set", "__builtin__.frozenset", "builtins.frozenset")) c.put(b, AllowList::set);
        c.put("builtins.bytearray", AllowList::bytes);
        for (String core : List.of("numpy.core", "numpy._core")) {
            c.put(core + ".multiarray._reconstruct", NumpyArray::reconstruct);
            c.put(core + ".multiarray.scalar", NumpyArray::scalar);
            c.put(core + ".numeric._frombuffer", NumpyArray::fromBuffer);
        }
        c.put("numpy.dtype", NumpyArray.DType::create);
        return new AllowList(c, Set.of("numpy.ndarray"));
    }

    /** This list with {@code more} calls and {@code moreTypes} (globals that are only passed around, never called). */
    public AllowList plus(Map<String, Call> more, Set<String> moreTypes) {
        Map<String, Call> c = new LinkedHashMap<>(calls);
        c.putAll(more);
        Set<String> t = new LinkedHashSet<>(types);
        t.addAll(moreTypes);
        return new AllowList(c, t);
    }

    /** Whether a pickle may name {@code qualified} ({@code module.name}). */
    public boolean admits(String qualified) {
        return calls.containsKey(qualified) || types.contains(qualified);
    }

    /** What calling {@code qualified} builds, or null when it is a type only. */
    public Call call(String qualified) {
        return calls.get(qualified);
    }

    /** A short description for refusals. */
    public String describe() {
        Set<String> modules = new LinkedHashSet<>();
        for (String s : calls.keySet()) modules.add(s.substring(0, s.lastIndexOf('.')));
        for (String s : types) modules.add(s.substring(0, s.lastIndexOf('.')));
        return "from " + String.join(", ", modules);
    }

    // ---- the generic calls ----------------------------------------------------------------------

    private static Object orderedDict(PyTuple args) throws BadArguments {
        Map<Object, Object> d = new LinkedHashMap<>();
        if (args.size() == 0) return d;
        if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
            for (Object p : pairs) {
                if (!(p instanceof PyTuple t) || t.size() != 2 || !isKey(t.get(0))) {
                    throw new BadArguments("wants a list of (key, value) pairs with str or int keys");
                }
                d.put(t.get(0), t.get(1));
            }
            return d;
        }
        throw new BadArguments("wants no arguments or a list of pairs, got " + args.size() + " arguments");
    }

    /** {@code set(list)} / {@code frozenset(list)}: how protocol 2 pickles sets. */
    private static Object set(PyTuple args) throws BadArguments {
        Set<Object> out = new java.util.HashSet<>();
        if (args.size() == 0) return out;
        if (args.size() == 1 && args.get(0) instanceof List<?> items) {
            for (Object o : items) {
                if (!isKey(o)) throw new BadArguments("wants a list of str, int, float or bool items");
                out.add(o);
            }
            return out;
        }
        throw new BadArguments("wants no arguments or one list");
    }

    private static boolean isKey(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof Boolean || o instanceof Double;
    }

    /** {@code _codecs.encode(str, 'latin1')}: how protocol 2 pickles a bytes object. */
    private static Object encode(PyTuple args) throws BadArguments {
        if (args.size() == 2 && args.get(0) instanceof String s && args.get(1) instanceof String enc && isLatin1(enc)) {
            return latin1Bytes(s);
        }
        throw new BadArguments("wants (str, 'latin1')");
    }

    private static Object bytes(PyTuple args) throws BadArguments {
        if (args.size() == 0) return new byte[0];
        if (args.size() == 2 && args.get(0) instanceof String s && args.get(1) instanceof String enc && isLatin1(enc)) {
            return latin1Bytes(s);
        }
        throw new BadArguments("wants () or (str, 'latin1')");
    }

    private static boolean isLatin1(String enc) {
        String e = enc.toLowerCase(java.util.Locale.ROOT).replace("_", "-");
        return e.equals("latin1") || e.equals("latin-1") || e.equals("iso-8859-1") || e.equals("iso8859-1");
    }

    private static byte[] latin1Bytes(String s) throws BadArguments {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0xff) throw new BadArguments("str holds a character beyond latin-1");
        }
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Checks that {@code o} is an int that fits a Java int and is at least {@code min}. */
    static int intArg(Object o, String what, long min) throws BadArguments {
        if (!(o instanceof Long l) || l < min || l > Integer.MAX_VALUE) {
            throw new BadArguments(what + " must be an int in [" + min + ", " + Integer.MAX_VALUE + "], got "
                    + (o instanceof Long l2 ? l2.toString() : Unpickler.kind(o)));
        }
        return (int) (long) l;
    }

    /** The ints of a tuple (a shape or strides), each in [0, 2^31-1]. */
    static int[] intTuple(Object o, String what) throws BadArguments {
        if (!(o instanceof PyTuple t)) throw new BadArguments(what + " must be a tuple of ints, got " + Unpickler.kind(o));
        if (t.size() > 64) throw new BadArguments(what + " has " + t.size() + " dimensions, more than 64");
        int[] out = new int[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = intArg(t.get(i), what + "[" + i + "]", 0);
        return out;
    }
}
