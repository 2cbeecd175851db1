package dev.irtj.tensor.pickle;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A numpy array as pickled: {@code numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')}
 * followed by BUILD with {@code (version, shape, dtype, is_fortran, raw bytes)} (protocols 2–4),
 * or {@code numpy.core.numeric._frombuffer(bytes, dtype, shape, order)} (protocol 5). Numeric
 * dtypes only: bool, signed and unsigned ints of 1–8 bytes, floats of 2, 4 and 8 bytes, either byte
 * order; object, string and structured arrays are refused. The raw bytes must be exactly
 * {@code numel · itemsize}.
 */
public final class NumpyArray implements AllowList.Buildable {
    private int[] shape;
    private DType dtype;
    private byte[] data;

    private NumpyArray() {
    }

    /** The shape (a copy). */
    public int[] shape() {
        check();
        return shape.clone();
    }

    public int numel() {
        check();
        return (int) numel(shape);
    }

    /** The dtype's kind: 'b' (bool), 'i', 'u' or 'f'. */
    public char kind() {
        check();
        return dtype.kind;
    }

    /** Every element as a long, row-major (floats refused: they are not indices). */
    public long[] toLongs() throws AllowList.BadArguments {
        check();
        if (dtype.kind == 'f') throw new AllowList.BadArguments("holds floats (" + dtype + "), integers were expected");
        long[] out = new long[numel()];
        ByteBuffer b = buffer();
        for (int i = 0; i < out.length; i++) out[i] = integer(b, i * dtype.size);
        return out;
    }

    /** Every element as a double, row-major. */
    public double[] toDoubles() {
        check();
        double[] out = new double[numel()];
        ByteBuffer b = buffer();
        for (int i = 0; i < out.length; i++) {
            int at = i * dtype.size;
            out[i] = dtype.kind != 'f' ? (dtype.kind == 'u' && dtype.size == 8 ? unsigned64(b.getLong(at)) : integer(b, at))
                    : switch (dtype.size) {
                        case 2 -> dev.irtj.tensor.SafeTensors.halfToFloat(b.getShort(at));
                        case 4 -> b.getFloat(at);
                        default -> b.getDouble(at);
                    };
        }
        return out;
    }

    private static double unsigned64(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    private long integer(ByteBuffer b, int at) {
        boolean signed = dtype.kind == 'i';
        return switch (dtype.size) {
            case 1 -> signed ? b.get(at) : b.get(at) & 0xffL;
            case 2 -> signed ? b.getShort(at) : b.getShort(at) & 0xffffL;
            case 4 -> signed ? b.getInt(at) : b.getInt(at) & 0xffffffffL;
            default -> b.getLong(at);
        };
    }

    private ByteBuffer buffer() {
        return ByteBuffer.wrap(data).order(dtype.bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    }

    private void check() {
        if (data == null) throw new IllegalStateException("numpy array read without its BUILD state");
    }

    /** Whether BUILD (or _frombuffer) gave this array its data. */
    public boolean complete() {
        return data != null;
    }

    @Override
    public String toString() {
        return data == null ? "numpy array (no data)" : "numpy " + dtype + " array " + Arrays.toString(shape);
    }

    // ---- rebuilding -----------------------------------------------------------------------------

    /** {@code _reconstruct(numpy.ndarray, (0,), b'b')}: an empty array that BUILD fills. */
    static Object reconstruct(PyTuple args) throws AllowList.BadArguments {
        if (args.size() != 3 || !(args.get(0) instanceof PyGlobal g) || !g.qualified().equals("numpy.ndarray")) {
            throw new AllowList.BadArguments("wants (numpy.ndarray, shape, typecode)");
        }
        return new NumpyArray();
    }

    @Override
    public void build(Object state) throws AllowList.BadArguments {
        if (data != null) throw new AllowList.BadArguments("array already has its data");
        if (!(state instanceof PyTuple t) || (t.size() != 5 && t.size() != 4)) {
            throw new AllowList.BadArguments("wants (version, shape, dtype, is_fortran, data), got " + Unpickler.kind(state));
        }
        int o = t.size() - 4;
        int[] s = AllowList.intTuple(t.get(o), "shape");
        if (!(t.get(o + 1) instanceof DType d)) throw new AllowList.BadArguments("dtype must be a numpy.dtype, got " + Unpickler.kind(t.get(o + 1)));
        if (!(t.get(o + 2) instanceof Boolean fortran)) throw new AllowList.BadArguments("is_fortran must be a bool");
        Object raw = t.get(o + 3);
        byte[] bytes;
        if (raw instanceof byte[] b) {
            bytes = b;
        } else if (raw instanceof String str) { // protocol 2 from Python 2: a latin-1 str
            bytes = str.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        } else {
            throw new AllowList.BadArguments("data is " + Unpickler.kind(raw) + ", not bytes (object arrays are not read)");
        }
        set(s, d, fortran, bytes);
    }

    private void set(int[] s, DType d, boolean fortran, byte[] bytes) throws AllowList.BadArguments {
        long n = numel(s);
        if (n > Integer.MAX_VALUE) throw new AllowList.BadArguments("shape " + Arrays.toString(s) + " has more than 2^31-1 elements");
        if (n * d.size != bytes.length) {
            throw new AllowList.BadArguments("shape " + Arrays.toString(s) + " of " + d + " needs " + n * d.size + " bytes, the data has " + bytes.length);
        }
        int big = 0;
        for (int v : s) if (v > 1) big++;
        if (fortran && big > 1) throw new AllowList.BadArguments("Fortran-ordered arrays of two or more dimensions are not read");
        shape = s;
        dtype = d;
        data = bytes;
    }

    /** {@code _frombuffer(buffer, dtype, shape, order)} of protocol 5. */
    static Object fromBuffer(PyTuple args) throws AllowList.BadArguments {
        if (args.size() != 4 || !(args.get(0) instanceof byte[] b) || !(args.get(1) instanceof DType d)
                || !(args.get(3) instanceof String order)) {
            throw new AllowList.BadArguments("wants (bytes, dtype, shape, order)");
        }
        if (!order.equals("C") && !order.equals("F")) throw new AllowList.BadArguments("order must be 'C' or 'F', got '" + PickleException.printable(order) + "'");
        NumpyArray a = new NumpyArray();
        a.set(AllowList.intTuple(args.get(2), "shape"), d, order.equals("F"), b);
        return a;
    }

    /** {@code numpy.core.multiarray.scalar(dtype, bytes)}: a numpy scalar, as a Long, Double or Boolean. */
    static Object scalar(PyTuple args) throws AllowList.BadArguments {
        if (args.size() != 2 || !(args.get(0) instanceof DType d)) throw new AllowList.BadArguments("wants (dtype, bytes)");
        Object raw = args.get(1);
        byte[] bytes = raw instanceof byte[] b ? b : raw instanceof String s ? s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1) : null;
        if (bytes == null) throw new AllowList.BadArguments("wants (dtype, bytes), got " + Unpickler.kind(raw));
        NumpyArray a = new NumpyArray();
        a.set(new int[0], d, false, bytes);
        if (d.kind == 'f') return a.toDoubles()[0];
        if (d.kind == 'b') return a.toLongs()[0] != 0;
        return a.toLongs()[0];
    }

    private static long numel(int[] s) {
        long n = 1;
        for (int v : s) {
            n *= v;
            if (n > Integer.MAX_VALUE) return Long.MAX_VALUE; // stops before overflow: each factor < 2^31
        }
        return n;
    }

    /** A numpy dtype: {@code numpy.dtype('i8', False, True)}, then BUILD with its byte order. */
    public static final class DType implements AllowList.Buildable {
        final char kind;
        final int size;
        boolean bigEndian;
        private boolean built;

        private DType(char kind, int size) {
            this.kind = kind;
            this.size = size;
        }

        static Object create(PyTuple args) throws AllowList.BadArguments {
            if (args.size() < 1 || !(args.get(0) instanceof String code)) throw new AllowList.BadArguments("wants (typecode, align, copy)");
            if (code.length() < 2) throw new AllowList.BadArguments(unsupported(code));
            char k = code.charAt(0);
            int n;
            try {
                n = Integer.parseInt(code.substring(1));
            } catch (NumberFormatException e) {
                throw new AllowList.BadArguments(unsupported(code));
            }
            boolean ok = switch (k) {
                case 'b' -> n == 1;
                case 'i', 'u' -> n == 1 || n == 2 || n == 4 || n == 8;
                case 'f' -> n == 2 || n == 4 || n == 8;
                default -> false;
            };
            if (!ok) throw new AllowList.BadArguments(unsupported(code));
            return new DType(k, n);
        }

        private static String unsupported(String code) {
            return "dtype '" + PickleException.printable(code) + "' is not read (irtj reads bool, int, uint and float arrays)";
        }

        @Override
        public void build(Object state) throws AllowList.BadArguments {
            if (!(state instanceof PyTuple t) || t.size() < 2 || !(t.get(1) instanceof String order)) {
                throw new AllowList.BadArguments("dtype state wants (version, byte order, ...)");
            }
            if (t.size() > 3 && t.get(3) != null) throw new AllowList.BadArguments("structured dtypes (with fields) are not read");
            switch (order) {
                case "<", "|", "=" -> bigEndian = false;
                case ">" -> bigEndian = true;
                default -> throw new AllowList.BadArguments("byte order '" + PickleException.printable(order) + "' is not <, >, | or =");
            }
            built = true;
        }

        @Override
        public String toString() {
            return (built ? (bigEndian ? ">" : "<") : "") + kind + size;
        }
    }
}
