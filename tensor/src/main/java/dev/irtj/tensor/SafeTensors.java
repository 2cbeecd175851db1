package dev.irtj.tensor;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format: an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON mapping
 * each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative
 * to the data section that follows the header) plus an optional {@code "__metadata__"} object of
 * strings, then the raw little-endian data.
 *
 * <ul>
 *   <li>{@link #read} loads F32, F64 and I64 as those dtypes and widens F16 and BF16 to F32
 *       (exactly: subnormals, infinities and NaN included). The whole header is validated before
 *       any data is read, so a malformed file yields one {@link FormatException} naming the file
 *       (and the tensor, where one is at fault) and never a partial result.</li>
 *   <li>{@link #write} writes F32, F64 and I64 tensors (any strided view) atomically: to a
 *       temporary file in the same directory, flushed to disk, then renamed over the target.</li>
 * </ul>
 *
 * <p>Tensors read are host tensors over plain heap arrays that belong to no {@link MemoryScope}.
 * Tensors of more than 2<sup>31</sup>−1 elements cannot be represented and are rejected.
 */
public final class SafeTensors {
    /** Largest header accepted, as in the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";
    private static final int CHUNK_BYTES = 1 << 16;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private SafeTensors() {
    }

    /**
     * The contents of a safetensors file: tensors and metadata in header order (unmodifiable).
     *
     * @param tensors  name → tensor
     * @param metadata the {@code __metadata__} strings (empty when the file has none)
     * @param source   the file it was read from, named in error messages (null if built in memory)
     */
    public record File(Map<String, Tensor> tensors, Map<String, String> metadata, Path source) {
        public File {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(tensors, "tensors")));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata == null ? Map.of() : metadata));
        }

        public File(Map<String, Tensor> tensors, Map<String, String> metadata) {
            this(tensors, metadata, null);
        }

        /** The tensor called {@code name}; fails naming the file, the tensor and similar names. */
        public Tensor get(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no tensor '" + name + "' in " + describe() + "; " + nearby(name));
            }
            return t;
        }

        /** The metadata value for {@code key}; fails naming the file and the keys present. */
        public String meta(String key) {
            String v = metadata.get(key);
            if (v == null) {
                throw new IllegalArgumentException("no metadata '" + key + "' in " + describe() + "; keys: " + metadata.keySet());
            }
            return v;
        }

        private String describe() {
            return source == null ? "safetensors data" : source.toString();
        }

        /** Names sharing the missing name's prefix (up to its last '.'), else the first few names. */
        private String nearby(String name) {
            int dot = name.lastIndexOf('.');
            List<String> pool = new ArrayList<>();
            if (dot > 0) {
                String prefix = name.substring(0, dot + 1);
                for (String n : tensors.keySet()) if (n.startsWith(prefix)) pool.add(n);
            }
            String what = pool.isEmpty() ? "it has " + tensors.size() + " tensors" : "similar names";
            if (pool.isEmpty()) pool.addAll(tensors.keySet());
            int show = Math.min(pool.size(), 20);
            String list = String.join(", ", pool.subList(0, show)) + (pool.size() > show ? ", ..." : "");
            return what + ": [" + list + "]";
        }
    }

    /**
     * A malformed safetensors file. The message names the file and, where one tensor is at fault,
     * that tensor.
     */
    public static final class FormatException extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient Path file;
        private final String tensor;

        public FormatException(Path file, String tensor, String detail) {
            super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + detail);
            this.file = file;
            this.tensor = tensor;
        }

        /** The file at fault. */
        public Path file() {
            return file;
        }

        /** The tensor at fault, or null when the problem is not one tensor's. */
        public String tensor() {
            return tensor;
        }
    }

    /** Element types of the format that irtj reads, with their byte sizes. */
    private enum FileDType {
        F32(4), F64(8), I64(8), F16(2), BF16(2);

        final int bytes;

        FileDType(int bytes) {
            this.bytes = bytes;
        }

        static FileDType parse(String s) {
            for (FileDType d : values()) if (d.name().equals(s)) return d;
            return null;
        }
    }

    private record Entry(String name, FileDType dtype, int[] shape, long begin, long end) {
    }

    // ---- reading ------------------------------------------------------------------------------

    /**
     * Reads a whole file.
     *
     * @throws FormatException when the file is not valid safetensors, or holds a dtype or a
     *                         tensor size irtj cannot represent
     * @throws IOException     when the file cannot be read
     */
    public static File read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(path, null, "file of " + size + " bytes is too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.flip().getLong();
            // Compare as unsigned: a length with the top bit set is also far past the end.
            if (Long.compareUnsigned(headerLen, size - 8) > 0) {
                throw new FormatException(path, null, "header length " + Long.toUnsignedString(headerLen)
                        + " runs past the end of the file (" + size + " bytes, so at most " + (size - 8) + ")");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw new FormatException(path, null, "header length " + headerLen + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, path);
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(path, headerBuf.flip(), dataSize, metadata);

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(dataSize, 8))).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) tensors.put(e.name, readTensor(ch, chunk, dataStart, e, path));
            return new File(tensors, metadata, path);
        }
    }

    private static List<Entry> parseHeader(Path path, ByteBuffer bytes, long dataSize, Map<String, String> metadata)
            throws FormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException ex) {
            throw new FormatException(path, null, "header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException ex) {
            String where = ex.getLocation() == null ? ""
                    : " (line " + ex.getLocation().getLineNr() + ", column " + ex.getLocation().getColumnNr() + ")";
            throw new FormatException(path, null, "header is not valid JSON" + where + ": " + ex.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new FormatException(path, null, "header must be a JSON object, found " + kind(root));
        }

        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                parseMetadata(path, node, metadata);
            } else {
                entries.add(parseEntry(path, name, node, dataSize));
            }
        }

        // No two tensors may share bytes (empty tensors own none).
        List<Entry> byOffset = new ArrayList<>();
        for (Entry e : entries) if (e.end > e.begin) byOffset.add(e);
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry prev = byOffset.get(i - 1), cur = byOffset.get(i);
            if (cur.begin < prev.end) {
                throw new FormatException(path, cur.name, "data_offsets [" + cur.begin + ", " + cur.end
                        + "] overlap those of tensor '" + prev.name + "' [" + prev.begin + ", " + prev.end + "]");
            }
        }
        return entries;
    }

    private static void parseMetadata(Path path, JsonNode node, Map<String, String> metadata) throws FormatException {
        if (!node.isObject()) {
            throw new FormatException(path, null, METADATA_KEY + " must be an object of strings, found " + kind(node));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new FormatException(path, null, METADATA_KEY + " value of '" + m.getKey()
                        + "' must be a string, found " + kind(m.getValue()));
            }
            metadata.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) throws FormatException {
        if (!node.isObject()) {
            throw new FormatException(path, name, "entry must be an object with dtype, shape and data_offsets, found " + kind(node));
        }
        JsonNode dtypeNode = node.get("dtype"), shapeNode = node.get("shape"), offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsetsNode == null) {
            throw new FormatException(path, name, "entry lacks " + (dtypeNode == null ? "dtype" : shapeNode == null ? "shape" : "data_offsets"));
        }
        if (!dtypeNode.isTextual()) throw new FormatException(path, name, "dtype must be a string, found " + kind(dtypeNode));
        FileDType dtype = FileDType.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw new FormatException(path, name, "unsupported dtype '" + dtypeNode.textValue() + "' (irtj reads F32, F64, I64, F16, BF16)");
        }

        if (!shapeNode.isArray()) throw new FormatException(path, name, "shape must be an array, found " + kind(shapeNode));
        int[] shape = new int[shapeNode.size()];
        boolean empty = false;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw new FormatException(path, name, "shape " + shapeNode + " has a non-integer dimension " + d);
            }
            long v = d.longValue();
            if (v < 0) throw new FormatException(path, name, "shape " + shapeNode + " has a negative dimension " + v);
            if (v > Integer.MAX_VALUE) throw new FormatException(path, name, "shape " + shapeNode + " has a dimension too large for irtj");
            shape[i] = (int) v;
            empty |= v == 0;
        }
        long numel = 1;
        if (empty) {
            numel = 0;
        } else {
            for (int d : shape) {
                numel *= d; // stays below 2^62: each factor < 2^31 and we stop past 2^31
                if (numel > Integer.MAX_VALUE) {
                    throw new FormatException(path, name, "shape " + shapeNode + " has more than 2^31-1 elements, too many for irtj");
                }
            }
        }

        if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw new FormatException(path, name, "data_offsets must be an array [begin, end], found " + offsetsNode);
        }
        JsonNode b = offsetsNode.get(0), e = offsetsNode.get(1);
        if (!b.isIntegralNumber() || !b.canConvertToLong() || !e.isIntegralNumber() || !e.canConvertToLong()
                || b.longValue() < 0 || e.longValue() < 0) {
            throw new FormatException(path, name, "data_offsets " + offsetsNode + " must be two non-negative integers");
        }
        long begin = b.longValue(), end = e.longValue();
        if (begin > end) throw new FormatException(path, name, "data_offsets " + offsetsNode + " end before they begin");
        if (end > dataSize) {
            throw new FormatException(path, name, "data_offsets " + offsetsNode + " reach past the end of the data section ("
                    + dataSize + " bytes)");
        }
        long expected = numel * dtype.bytes;
        if (end - begin != expected) {
            throw new FormatException(path, name, "data_offsets " + offsetsNode + " span " + (end - begin) + " bytes but "
                    + dtype + " " + Shape.str(shape) + " needs " + expected);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static String kind(JsonNode n) {
        return n == null || n.isMissingNode() ? "nothing" : n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static Tensor readTensor(FileChannel ch, ByteBuffer chunk, long dataStart, Entry e, Path path) throws IOException {
        int n = (int) ((e.end - e.begin) / e.dtype.bytes);
        Storage storage;
        switch (e.dtype) {
            case F64 -> {
                double[] a = new double[n];
                stream(ch, chunk, dataStart + e.begin, n, 8, path, (buf, off, cnt) -> buf.asDoubleBuffer().get(a, off, cnt));
                storage = HostStorage.wrap(a);
            }
            case I64 -> {
                long[] a = new long[n];
                stream(ch, chunk, dataStart + e.begin, n, 8, path, (buf, off, cnt) -> buf.asLongBuffer().get(a, off, cnt));
                storage = HostStorage.wrap(a);
            }
            case F32 -> {
                float[] a = new float[n];
                stream(ch, chunk, dataStart + e.begin, n, 4, path, (buf, off, cnt) -> buf.asFloatBuffer().get(a, off, cnt));
                storage = HostStorage.wrap(a);
            }
            case F16 -> {
                float[] a = new float[n];
                stream(ch, chunk, dataStart + e.begin, n, 2, path, (buf, off, cnt) -> {
                    for (int i = 0; i < cnt; i++) a[off + i] = halfToFloat(buf.getShort());
                });
                storage = HostStorage.wrap(a);
            }
            case BF16 -> {
                float[] a = new float[n];
                stream(ch, chunk, dataStart + e.begin, n, 2, path, (buf, off, cnt) -> {
                    for (int i = 0; i < cnt; i++) a[off + i] = bfloat16ToFloat(buf.getShort());
                });
                storage = HostStorage.wrap(a);
            }
            default -> throw new AssertionError(e.dtype);
        }
        return Tensor.contiguousView(storage, e.shape);
    }

    @FunctionalInterface
    private interface ChunkSink {
        /** Consumes {@code count} elements from {@code buf} (little-endian) into the array at {@code offset}. */
        void accept(ByteBuffer buf, int offset, int count);
    }

    /** Reads {@code count} elements of {@code width} bytes from {@code position}, a chunk at a time. */
    private static void stream(FileChannel ch, ByteBuffer chunk, long position, int count, int width, Path path, ChunkSink sink)
            throws IOException {
        int perChunk = chunk.capacity() / width;
        int done = 0;
        while (done < count) {
            int cnt = Math.min(perChunk, count - done);
            chunk.clear().limit(cnt * width);
            readFully(ch, chunk, position + (long) done * width, path);
            chunk.flip();
            sink.accept(chunk.order(ByteOrder.LITTLE_ENDIAN), done, cnt);
            done += cnt;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position);
            if (r < 0) throw new IOException(path + ": file ended early (was it truncated while being read?)");
            position += r;
        }
    }

    /** IEEE 754 binary16 → float, exactly (subnormals, infinities and NaN payloads included). */
    public static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact, mant < 2^10
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** bfloat16 → float: the upper half of a float's bits, so exact. */
    public static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    // ---- writing ------------------------------------------------------------------------------

    /**
     * Writes {@code tensors} (F32, F64 or I64; any strided view, on any device; written in
     * row-major order) in map order, with {@code metadata} (may be null or empty: then no
     * {@code __metadata__} entry). The header is padded with spaces to a multiple of 8 bytes.
     *
     * <p>Atomic: the data goes to a temporary file in the same directory, is forced to disk and
     * then renamed over {@code path}; on any failure the temporary file is deleted and an existing
     * file at {@code path} is left untouched.
     *
     * @throws IllegalArgumentException for a null or reserved name ({@code __metadata__}), or null
     *                                  tensor, key or value
     * @throws IOException              when writing fails
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tensors, "tensors");
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA_KEY);
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new IllegalArgumentException("metadata for " + path + " has a null key or value: " + m.getKey() + "=" + m.getValue());
                }
                meta.put(m.getKey(), m.getValue());
            }
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null) throw new IllegalArgumentException("null tensor name for " + path);
            if (name.equals(METADATA_KEY)) throw new IllegalArgumentException("tensor name " + METADATA_KEY + " is reserved (" + path + ")");
            if (t == null) throw new IllegalArgumentException("tensor '" + name + "' for " + path + " is null");
            long bytes = (long) t.numel() * t.dtype().byteSize();
            ObjectNode info = header.putObject(name);
            info.put("dtype", t.dtype().name());
            ArrayNode shape = info.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException ex) {
            throw new IOException(path + ": cannot encode the header", ex);
        }
        int padded = (json.length + 7) / 8 * 8;

        AtomicFiles.write(path, ch -> {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(padded);
            writeBytes(ch, buf, json);
            for (int i = json.length; i < padded; i++) put(ch, buf).put((byte) ' ');
            for (Tensor t : tensors.values()) writeData(ch, buf, t);
            drain(ch, buf);
        });
    }

    private static void writeData(FileChannel ch, ByteBuffer buf, Tensor t) throws IOException {
        if (t.numel() == 0) return;
        switch (t.dtype()) {
            case F32 -> {
                for (float v : t.toFloatArray()) put(ch, buf).putFloat(v);
            }
            case F64 -> {
                for (double v : t.toDoubleArray()) put(ch, buf).putDouble(v);
            }
            case I64 -> {
                for (long v : t.toLongArray()) put(ch, buf).putLong(v);
            }
        }
    }

    /** The buffer, drained to the channel first when fewer than 8 bytes remain. */
    private static ByteBuffer put(FileChannel ch, ByteBuffer buf) throws IOException {
        if (buf.remaining() < 8) drain(ch, buf);
        return buf;
    }

    private static void writeBytes(FileChannel ch, ByteBuffer buf, byte[] bytes) throws IOException {
        int done = 0;
        while (done < bytes.length) {
            if (!buf.hasRemaining()) drain(ch, buf);
            int n = Math.min(buf.remaining(), bytes.length - done);
            buf.put(bytes, done, n);
            done += n;
        }
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

}
