package dev.irtj.tensor.pickle;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted pickle reader: it rebuilds plain data (None, booleans, ints, floats, str, bytes,
 * tuples, lists, dicts, sets) and, through an {@link AllowList}, the few Python globals that
 * rebuild tensors and arrays. Nothing in a pickle can run code here: a global that the
 * allow-list does not name is refused with one line naming it, when it is first named (GLOBAL,
 * STACK_GLOBAL, INST), before anything could call it.
 *
 * <p>Opcodes of protocols 2–5 are read, and of the older text protocols only those that
 * protocol 2 pickles still use (GLOBAL, INST, PUT, GET, INT). Out-of-band buffers and the
 * extension registry are refused.
 *
 * <p>Memory is bounded by the input: the whole pickle is in memory, and every length read from it
 * is checked against the bytes that remain before anything is allocated; the stack and the memo
 * grow at most by one entry per opcode and are capped; the mark stack and tuple nesting are
 * limited to {@value #MAX_DEPTH} levels (so no code that hashes or compares a dict key
 * recurses without bound). Lists and dicts may nest or refer to themselves as in Python, but
 * nothing here walks them.
 *
 * <p>Values: {@code null} (None), {@link Boolean}, {@link Long} (ints beyond 64 bits are refused),
 * {@link Double}, {@link String}, {@code byte[]} (bytes and bytearray), {@link PyTuple},
 * {@link ArrayList} (list), {@link LinkedHashMap} (dict and OrderedDict), {@link HashSet} (set and
 * frozenset), and what the allow-list's calls return. Dict keys and set items must be hashable
 * as in Python (no lists, dicts or sets); a bytes key becomes its latin-1 string.
 */
public final class Unpickler {
    /** Deepest mark stack and tuple nesting accepted. */
    public static final int MAX_DEPTH = 200;
    /** Most memo entries accepted. */
    public static final int MAX_MEMO = 1 << 20;
    /** Most stack entries accepted. */
    public static final int MAX_STACK = 1 << 22;

    /** Turns a persistent id (BINPERSID) into an object, e.g. a PyTorch storage in its archive. */
    @FunctionalInterface
    public interface PersistentLoader {
        Object load(Object pid) throws PickleException;
    }

    private final byte[] in;
    private final String source;
    private final AllowList allow;
    private final PersistentLoader persistent;
    private int pos;
    private int opStart;
    private final List<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    private final Map<Long, Object> memo = new HashMap<>();

    private Unpickler(byte[] in, String source, AllowList allow, PersistentLoader persistent) {
        this.in = in;
        this.source = source;
        this.allow = allow;
        this.persistent = persistent;
    }

    /**
     * Reads one pickle from {@code bytes} (trailing bytes after STOP are ignored, as Python does).
     *
     * @param source     names the input in error messages
     * @param persistent resolves persistent ids, or null to refuse them
     */
    public static Object load(byte[] bytes, String source, AllowList allow, PersistentLoader persistent) throws PickleException {
        return new Unpickler(bytes, source, allow, persistent).run();
    }

    private Object run() throws PickleException {
        while (true) {
            if (pos >= in.length) throw fail("ends before its STOP opcode (truncated?)");
            opStart = pos;
            int op = in[pos++] & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v > 5) throw fail("pickle protocol " + v + " is newer than 5");
                }
                case 0x95 -> { // FRAME: a length hint only
                    long n = u64();
                    if (n < 0 || n > in.length - pos) throw fail("frame of " + Long.toUnsignedString(n) + " bytes runs past the end (" + (in.length - pos) + " left)");
                }
                case '.' -> { // STOP
                    if (stack.size() != 1 || markCount != 0) {
                        throw fail("STOP with " + stack.size() + " values on the stack and " + markCount + " open marks (want 1 and 0)");
                    }
                    return stack.get(0);
                }
                case '(' -> mark();
                case '0' -> pop();
                case '1' -> popToMark();
                case '2' -> push(peek());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) s32());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) u16());
                case 0x8a -> push(longOf(u8()));
                case 0x8b -> {
                    int n = s32();
                    if (n < 0) throw fail("LONG4 of negative length " + n);
                    push(longOf(n));
                }
                case 'I' -> push(textInt(line()));
                case 'G' -> push(Double.longBitsToDouble(u64BigEndian()));
                case 0x8c -> push(utf8(u8()));
                case 'X' -> push(utf8(u32()));
                case 0x8d -> push(utf8(length64()));
                case 'U' -> push(latin1(u8()));
                case 'T' -> {
                    int n = s32();
                    if (n < 0) throw fail("BINSTRING of negative length " + n);
                    push(latin1(n));
                }
                case 'C' -> push(bytes(u8()));
                case 'B' -> push(bytes(u32()));
                case 0x8e, 0x96 -> push(bytes(length64())); // BINBYTES8, BYTEARRAY8
                case ')' -> push(tuple(List.of()));
                case 't' -> push(tuple(popToMark()));
                case 0x85 -> push(tuple(List.of(pop())));
                case 0x86 -> {
                    Object b = pop(), a = pop();
                    push(tuple(Arrays.asList(a, b)));
                }
                case 0x87 -> {
                    Object c = pop(), b = pop(), a = pop();
                    push(tuple(Arrays.asList(a, b, c)));
                }
                case ']' -> push(new ArrayList<>());
                case 'l' -> push(new ArrayList<>(popToMark()));
                case 'a' -> {
                    Object v = pop();
                    list(peek(), "APPEND").add(v);
                }
                case 'e' -> {
                    List<Object> items = popToMark();
                    list(peek(), "APPENDS").addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>());
                case 'd' -> {
                    List<Object> items = popToMark();
                    Map<Object, Object> d = new LinkedHashMap<>();
                    putPairs(d, items, "DICT");
                    push(d);
                }
                case 's' -> {
                    Object v = pop(), k = pop();
                    dict(peek(), "SETITEM").put(key(k, "SETITEM"), v);
                }
                case 'u' -> {
                    List<Object> items = popToMark();
                    putPairs(dict(peek(), "SETITEMS"), items, "SETITEMS");
                }
                case 0x8f -> push(new HashSet<>());
                case 0x90 -> {
                    List<Object> items = popToMark();
                    Set<Object> s = set(peek());
                    for (Object o : items) s.add(key(o, "ADDITEMS"));
                }
                case 0x91 -> {
                    Set<Object> s = new HashSet<>();
                    for (Object o : popToMark()) s.add(key(o, "FROZENSET"));
                    push(s);
                }
                case 'c' -> {
                    String module = line(), name = line();
                    push(global(module, name, "GLOBAL"));
                }
                case 0x93 -> {
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail("STACK_GLOBAL needs two strings, got " + kind(module) + " and " + kind(name));
                    }
                    push(global(m, n, "STACK_GLOBAL"));
                }
                case 'i' -> { // INST: module and name follow, arguments up to the mark
                    String module = line(), name = line();
                    PyGlobal g = global(module, name, "INST");
                    push(call(g, tuple(popToMark()), "INST"));
                }
                case 'o' -> { // OBJ: class and arguments up to the mark
                    List<Object> items = popToMark();
                    if (items.isEmpty()) throw fail("OBJ without a class");
                    push(call(items.get(0), tuple(items.subList(1, items.size())), "OBJ"));
                }
                case 'R' -> {
                    Object args = pop(), fn = pop();
                    push(call(fn, args, "REDUCE"));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                    Object args = pop(), cls = pop();
                    push(call(cls, args, "NEWOBJ"));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop(), args = pop(), cls = pop();
                    if (!(kwargs instanceof Map<?, ?> m) || !m.isEmpty()) throw fail("NEWOBJ_EX with keyword arguments is not supported");
                    push(call(cls, args, "NEWOBJ_EX"));
                }
                case 'b' -> {
                    Object state = pop();
                    build(peek(), state);
                }
                case 'q' -> memoize(u8());
                case 'r' -> memoize(u32() & 0xffffffffL);
                case 0x94 -> memoize(memo.size());
                case 'p' -> memoize(textIndex(line()));
                case 'h' -> push(recall(u8()));
                case 'j' -> push(recall(u32() & 0xffffffffL));
                case 'g' -> push(recall(textIndex(line())));
                case 'Q' -> {
                    Object pid = pop();
                    if (persistent == null) throw fail("has a persistent id (BINPERSID) but is not read from an archive that resolves them");
                    push(persistent.load(pid));
                }
                case 'P' -> {
                    String pid = line();
                    if (persistent == null) throw fail("has a persistent id (PERSID) but is not read from an archive that resolves them");
                    push(persistent.load(pid));
                }
                case 0x82, 0x83, 0x84 -> throw fail("uses the extension registry (EXT opcodes), which names globals by number; refused");
                case 0x97, 0x98 -> throw fail("uses out-of-band buffers (protocol 5 NEXT_BUFFER/READONLY_BUFFER), which a file cannot supply");
                default -> throw fail(String.format("unknown or unsupported opcode 0x%02x", op));
            }
        }
    }

    // ---- the stack ------------------------------------------------------------------------------

    private void push(Object o) throws PickleException {
        if (stack.size() >= MAX_STACK) throw fail("stack grows past " + MAX_STACK + " values");
        stack.add(o);
    }

    private Object pop() throws PickleException {
        int floor = markCount == 0 ? 0 : marks[markCount - 1];
        if (stack.size() <= floor) throw fail(stack.isEmpty() ? "pops an empty stack" : "pops past a mark");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws PickleException {
        int floor = markCount == 0 ? 0 : marks[markCount - 1];
        if (stack.size() <= floor) throw fail(stack.isEmpty() ? "reads an empty stack" : "reads past a mark");
        return stack.get(stack.size() - 1);
    }

    private void mark() throws PickleException {
        if (markCount >= MAX_DEPTH) throw fail("nests deeper than " + MAX_DEPTH + " marks");
        if (markCount == marks.length) marks = Arrays.copyOf(marks, marks.length * 2);
        marks[markCount++] = stack.size();
    }

    private List<Object> popToMark() throws PickleException {
        if (markCount == 0) throw fail("needs a mark but none is open");
        int at = marks[--markCount];
        List<Object> top = stack.subList(at, stack.size());
        List<Object> out = new ArrayList<>(top);
        top.clear();
        return out;
    }

    private void memoize(long index) throws PickleException {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) throw fail("memo grows past " + MAX_MEMO + " entries");
        memo.put(index, peek());
    }

    private Object recall(long index) throws PickleException {
        if (!memo.containsKey(index)) throw fail("recalls memo entry " + index + ", which was never stored");
        return memo.get(index);
    }

    // ---- containers -----------------------------------------------------------------------------

    private PyTuple tuple(List<Object> items) throws PickleException {
        PyTuple t = PyTuple.of(items);
        if (t.depth() > MAX_DEPTH) throw fail("nests tuples deeper than " + MAX_DEPTH);
        return t;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, String op) throws PickleException {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw fail(op + " onto " + kind(o) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, String op) throws PickleException {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw fail(op + " onto " + kind(o) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private Set<Object> set(Object o) throws PickleException {
        if (o instanceof HashSet<?> s) return (Set<Object>) s;
        throw fail("ADDITEMS onto " + kind(o) + ", not a set");
    }

    private void putPairs(Map<Object, Object> d, List<Object> items, String op) throws PickleException {
        if (items.size() % 2 != 0) throw fail(op + " with an odd number (" + items.size() + ") of keys and values");
        for (int i = 0; i < items.size(); i += 2) d.put(key(items.get(i), op), items.get(i + 1));
    }

    /** A value usable as a dict key or set item: hashable in Python (no list, dict or set). */
    private Object key(Object k, String op) throws PickleException {
        if (!hashable(k)) throw fail(op + " with an unhashable key (" + kind(k) + ")");
        return k instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : k;
    }

    private static boolean hashable(Object k) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Double || k instanceof Boolean
                || k instanceof PyGlobal || k instanceof byte[]) {
            return true;
        }
        if (k instanceof PyTuple t) { // depth is limited, so this recursion is too
            for (Object o : t.items()) if (!hashable(o) || o instanceof byte[]) return false;
            return true;
        }
        return false;
    }

    // ---- globals --------------------------------------------------------------------------------

    private PyGlobal global(String module, String name, String op) throws PickleException {
        String q = module + "." + name;
        if (!allow.admits(q)) {
            throw fail("refuses the global " + PickleException.printable(q) + " (" + op
                    + "): only globals that rebuild tensors, arrays and dicts are allowed (" + allow.describe() + ")");
        }
        return new PyGlobal(module, name);
    }

    private Object call(Object fn, Object args, String op) throws PickleException {
        if (!(fn instanceof PyGlobal g)) throw fail(op + " calls " + kind(fn) + ", not an allowed global");
        if (!(args instanceof PyTuple t)) throw fail(op + " of " + g.qualified() + " with " + kind(args) + " as arguments, not a tuple");
        AllowList.Call c = allow.call(g.qualified());
        if (c == null) throw fail(op + " calls " + g.qualified() + ", which the allow-list admits only as a type, not to call");
        try {
            return c.call(t);
        } catch (AllowList.BadArguments e) {
            throw fail(op + " of " + g.qualified() + ": " + e.getMessage());
        }
    }

    private void build(Object target, Object state) throws PickleException {
        try {
            if (target instanceof AllowList.Buildable b) {
                b.build(state);
            } else if (target instanceof LinkedHashMap<?, ?> && (state instanceof Map<?, ?> || state instanceof PyTuple)) {
                // An OrderedDict's instance attributes (PyTorch's _metadata of module versions): not items, not needed.
            } else {
                throw fail("BUILD on " + kind(target) + ", which takes no state");
            }
        } catch (AllowList.BadArguments e) {
            throw fail("BUILD of " + kind(target) + ": " + e.getMessage());
        }
    }

    // ---- reading --------------------------------------------------------------------------------

    private void need(long n) throws PickleException {
        if (n < 0 || n > in.length - pos) {
            throw fail("needs " + n + " bytes but " + (in.length - pos) + " remain (truncated, or a length past the end)");
        }
    }

    private int u8() throws PickleException {
        need(1);
        return in[pos++] & 0xff;
    }

    private int u16() throws PickleException {
        need(2);
        int v = (in[pos] & 0xff) | (in[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    private int s32() throws PickleException {
        need(4);
        int v = (in[pos] & 0xff) | (in[pos + 1] & 0xff) << 8 | (in[pos + 2] & 0xff) << 16 | (in[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    /** An unsigned 32-bit length, checked against what remains. */
    private int u32() throws PickleException {
        long n = s32() & 0xffffffffL;
        need(n);
        return (int) n;
    }

    private long u64() throws PickleException {
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (in[pos + i] & 0xff);
        pos += 8;
        return v;
    }

    /** A big-endian 8-byte value (BINFLOAT's double). */
    private long u64BigEndian() throws PickleException {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | (in[pos + i] & 0xff);
        pos += 8;
        return v;
    }

    private int length64() throws PickleException {
        long n = u64();
        if (n < 0 || n > in.length - pos) {
            throw fail("needs " + Long.toUnsignedString(n) + " bytes but " + (in.length - pos) + " remain (truncated, or a length past the end)");
        }
        return (int) n;
    }

    private byte[] bytes(int n) throws PickleException {
        need(n);
        byte[] b = Arrays.copyOfRange(in, pos, pos + n);
        pos += n;
        return b;
    }

    private String utf8(int n) throws PickleException {
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(in, pos, n)).toString();
            pos += n;
            return s;
        } catch (CharacterCodingException e) {
            throw fail("holds a string that is not valid UTF-8");
        }
    }

    private String latin1(int n) throws PickleException {
        need(n);
        String s = new String(in, pos, n, StandardCharsets.ISO_8859_1);
        pos += n;
        return s;
    }

    /** A newline-terminated ASCII line (text opcodes), at most 256 characters. */
    private String line() throws PickleException {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') {
            if (pos - start >= 256) throw fail("text argument longer than 256 bytes");
            pos++;
        }
        if (pos >= in.length) throw fail("text argument without its newline (truncated?)");
        String s = new String(in, start, pos - start, StandardCharsets.ISO_8859_1);
        pos++;
        return s;
    }

    private Object longOf(int n) throws PickleException {
        need(n);
        if (n > 8) throw fail("integer of " + n + " bytes is larger than 64 bits");
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = v << 8 | (in[pos + i] & 0xff);
        if (n > 0 && n < 8 && (in[pos + n - 1] & 0x80) != 0) v |= -1L << (8 * n); // sign-extend
        pos += n;
        return v;
    }

    private Object textInt(String s) throws PickleException {
        if (s.equals("01")) return Boolean.TRUE;
        if (s.equals("00")) return Boolean.FALSE;
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw fail("INT argument '" + PickleException.printable(s) + "' is not an integer");
        }
    }

    private long textIndex(String s) throws PickleException {
        try {
            long v = Long.parseLong(s.trim());
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw fail("memo index '" + PickleException.printable(s) + "' is not a non-negative integer");
        }
    }

    private PickleException fail(String detail) {
        return new PickleException(source, detail + " (at byte " + opStart + ")");
    }

    /** A short name of a value's type for messages (never its contents, which may be huge or cyclic). */
    public static String kind(Object o) {
        if (o == null) return "None";
        if (o instanceof Boolean) return "a bool";
        if (o instanceof Long) return "an int";
        if (o instanceof Double) return "a float";
        if (o instanceof String) return "a str";
        if (o instanceof byte[]) return "bytes";
        if (o instanceof PyTuple t) return "a tuple of " + t.size();
        if (o instanceof List<?>) return "a list";
        if (o instanceof Map<?, ?>) return "a dict";
        if (o instanceof Set<?>) return "a set";
        if (o instanceof PyGlobal g) return g.qualified();
        return o.getClass().getSimpleName();
    }
}
