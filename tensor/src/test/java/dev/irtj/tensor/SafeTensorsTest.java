package dev.irtj.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    // ---- round trips --------------------------------------------------------------------------

    @Test
    void roundTripsEveryWritableDtypeWithScalarsEmptiesAndMetadata() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("f32", Tensor.of(new float[] {1.5f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -3e38f}, 2, 3));
        in.put("f64", Tensor.of(new double[] {Math.PI, -0d, Double.NaN, Double.NEGATIVE_INFINITY, Double.MIN_VALUE}, 5));
        in.put("i64", Tensor.ofLongs(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, 2, 2));
        in.put("scalar", Tensor.scalar(2.25, DType.F64));
        in.put("scalar32", Tensor.scalar(-7, DType.F32));
        in.put("empty", Tensor.zeros(DType.F32, 0, 3));
        in.put("empty_i64", Tensor.ofLongs(new long[0], 0));
        in.put("big", Tensor.arange(50_000, DType.F32).reshape(50, 1000)); // larger than one read chunk
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ünïcode → \"quoted\"\n");
        meta.put("empty", "");
        Path file = tmp.resolve("all.safetensors");

        SafeTensors.write(file, in, meta);
        SafeTensors.File out = SafeTensors.read(file);

        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(out.tensors().keySet()), "header order");
        assertEquals(meta, out.metadata());
        assertEquals(file, out.source());
        for (Map.Entry<String, Tensor> e : in.entrySet()) assertBitwiseEqual(e.getKey(), e.getValue(), out.get(e.getKey()));
        assertEquals(0, out.get("scalar").rank());
        assertEquals("pt", out.meta("format"));
    }

    @Test
    void writesNonContiguousViewsInRowMajorOrder() throws IOException {
        Tensor base = Tensor.arange(24, DType.F64).reshape(2, 3, 4);
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("permuted", base.permute(2, 0, 1));
        in.put("transposed32", base.to(DType.F32).select(1, 1).mT());
        in.put("narrowed", base.narrow(2, 1, 2));
        in.put("expanded", Tensor.ofLongs(new long[] {7, 8, 9}, 3, 1).expand(3, 4));
        Path file = tmp.resolve("views.safetensors");

        SafeTensors.write(file, in, null);
        SafeTensors.File out = SafeTensors.read(file);

        for (Map.Entry<String, Tensor> e : in.entrySet()) {
            assertArrayEquals(e.getValue().shape(), out.get(e.getKey()).shape(), e.getKey());
            assertArrayEquals(e.getValue().toDoubleArray(), out.get(e.getKey()).toDoubleArray(), e.getKey());
            assertTrue(out.get(e.getKey()).isContiguous());
        }
        assertEquals(DType.F32, out.get("transposed32").dtype());
        assertEquals(DType.I64, out.get("expanded").dtype());
        assertArrayEquals(new double[] {1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22}, Tensor.of(
                out.get("permuted").toDoubleArray(), 24).narrow(0, 6, 12).toDoubleArray());
        assertTrue(out.metadata().isEmpty());
    }

    @Test
    void headerIsPaddedWithSpacesAndOffsetsFollowInsertionOrder() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("z", Tensor.of(new double[] {1, 2, 3}, 3));
        in.put("a", Tensor.of(new float[] {1}, 1));
        in.put("m", Tensor.ofLongs(new long[] {1, 2}, 2));
        Path file = tmp.resolve("layout.safetensors");
        SafeTensors.write(file, in, Map.of("k", "v"));

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length is a multiple of 8");
        assertEquals(8 + n + 24 + 4 + 16, bytes.length);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"k\":\"v\"}"), header);
        assertEquals(header.stripTrailing().length(), header.lastIndexOf('}') + 1);
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals("[0,24]", json.get("z").get("data_offsets").toString());
        assertEquals("[24,28]", json.get("a").get("data_offsets").toString());
        assertEquals("[28,44]", json.get("m").get("data_offsets").toString());
        assertEquals("F32", json.get("a").get("dtype").asText());
        assertEquals("[3]", json.get("z").get("shape").toString());
        List<String> order = new ArrayList<>();
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) order.add(it.next());
        assertEquals(List.of("__metadata__", "z", "a", "m"), order);
    }

    @Test
    void tensorsReadOutliveMemoryScopes() throws IOException {
        Path file = tmp.resolve("s.safetensors");
        SafeTensors.write(file, Map.of("x", Tensor.of(new double[] {1, 2}, 2)), Map.of());
        SafeTensors.File f;
        try (MemoryScope scope = MemoryScope.open()) {
            f = SafeTensors.read(file);
            assertEquals(0, scope.ownedCount());
        }
        assertArrayEquals(new double[] {1, 2}, f.get("x").toDoubleArray());
    }

    @Property(tries = 60)
    void roundTripsRandomShapes(@ForAll("shapes") int[] shape, @ForAll("dtypes") DType dtype, @ForAll long seed) throws IOException {
        Tensor t = Tensor.uniform(new Rng(seed), -1e6, 1e6, dtype, shape);
        Path dir = Files.createTempDirectory("irtj-st");
        try {
            Path file = dir.resolve("p.safetensors");
            SafeTensors.write(file, Map.of("t", t), Map.of("seed", Long.toString(seed)));
            SafeTensors.File f = SafeTensors.read(file);
            assertBitwiseEqual("t", t, f.get("t"));
            assertEquals(Long.toString(seed), f.meta("seed"));
        } finally {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) Files.delete(p);
            }
            Files.delete(dir);
        }
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Arbitraries.integers().between(0, 5).array(int[].class).ofMaxSize(4);
    }

    @Provide
    Arbitrary<DType> dtypes() {
        return Arbitraries.of(DType.class);
    }

    // ---- half precision -----------------------------------------------------------------------

    @Test
    void decodesF16ToF32Exactly() throws IOException {
        short[] bits = {0x3C00, (short) 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x0400, (short) 0x8000, 0x7C00, (short) 0xFC00, 0x7E00, 0x3555};
        float[] want = {1f, -2.5f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, 0.333251953125f};
        Path file = writeHalf("f16", "F16", bits);
        Tensor t = SafeTensors.read(file).get("h");
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new int[] {bits.length}, t.shape());
        assertFloatBits(want, t.toFloatArray());
    }

    @Test
    void decodesBF16ToF32Exactly() throws IOException {
        short[] bits = {0x3F80, (short) 0xC020, 0x477F, 0x0001, (short) 0x8000, 0x7F80, (short) 0xFF80, 0x7FC0, 0x7F7F};
        float[] want = {1f, -2.5f, 65280f, Float.intBitsToFloat(0x10000), -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, Float.intBitsToFloat(0x7F7F0000)};
        Path file = writeHalf("bf16", "BF16", bits);
        Tensor t = SafeTensors.read(file).get("h");
        assertEquals(DType.F32, t.dtype());
        assertFloatBits(want, t.toFloatArray());
        assertEquals(-2.5f, t.get(1));
    }

    @Test
    void everyF16BitPatternMatchesTheDefinition() {
        for (int b = 0; b < 1 << 16; b++) {
            int sign = b >>> 15, exp = (b >>> 10) & 0x1f, mant = b & 0x3ff;
            double magnitude = exp == 0 ? mant * 0x1p-24 : exp == 31 ? (mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                    : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            float want = (float) (sign == 1 ? -magnitude : magnitude);
            float got = SafeTensors.halfToFloat((short) b);
            if (Float.isNaN(want)) {
                assertTrue(Float.isNaN(got), "0x" + Integer.toHexString(b));
            } else {
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), "0x" + Integer.toHexString(b));
            }
        }
    }

    @Test
    void readsLargeHalfTensorsAcrossChunks() throws IOException {
        short[] bits = new short[70_001];
        for (int i = 0; i < bits.length; i++) bits[i] = (short) (0x3C00 + (i % 1024)); // 1 + k/1024
        Tensor t = SafeTensors.read(writeHalf("large", "F16", bits)).get("h");
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) assertEquals(1 + (i % 1024) / 1024f, v[i], "element " + i);
    }

    private Path writeHalf(String fileName, String dtype, short[] bits) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bits) data.putShort(s);
        String header = "{\"h\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + bits.length + "],\"data_offsets\":[0," + bits.length * 2 + "]}}";
        return writeRaw(fileName + ".safetensors", header, data.array());
    }

    // ---- malformed files ----------------------------------------------------------------------

    /** A malformed file: its header, data section size, the tensor to blame (or null) and a message fragment. */
    record Bad(String label, String header, int dataBytes, String tensor, String fragment) {
        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Bad> malformed() {
        return Stream.of(
                new Bad("invalid JSON", "{\"w\": {\"dtype\": \"F32\",", 0, null, "not valid JSON"),
                new Bad("trailing garbage", "{} x", 0, null, "not valid JSON"),
                new Bad("empty header", "", 0, null, "must be a JSON object"),
                new Bad("array header", "[1, 2]", 0, null, "must be a JSON object, found array"),
                new Bad("duplicate name", "{\"w\":" + f32(1, 0, 4) + ",\"w\":" + f32(1, 4, 8) + "}", 8, null, "Duplicate field 'w'"),
                new Bad("non-object entry", "{\"ok\":" + f32(1, 0, 4) + ",\"w\": 5}", 4, "w", "must be an object"),
                new Bad("missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "w", "lacks data_offsets"),
                new Bad("shape not an array", "{\"w\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,12]}}", 12, "w", "shape must be an array"),
                new Bad("fractional dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "w", "non-integer dimension"),
                new Bad("negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,0]}}", 0, "w", "negative dimension -1"),
                new Bad("too many elements", "{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,0]}}", 0, "w", "more than 2^31-1"),
                new Bad("unknown dtype", "{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "w", "unsupported dtype 'Q7'"),
                new Bad("dtype not a string", "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w", "dtype must be a string"),
                new Bad("offsets past the data", "{\"a\":" + f32(1, 0, 4) + ",\"w\":" + f32(2, 4, 12) + "}", 8, "w", "reach past the end of the data section (8 bytes)"),
                new Bad("offsets reversed", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8, "w", "end before they begin"),
                new Bad("negative offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8, "w", "two non-negative integers"),
                new Bad("three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "w", "[begin, end]"),
                new Bad("overlapping offsets", "{\"a\":" + f32(2, 0, 8) + ",\"w\":" + f32(2, 4, 12) + "}", 12, "w", "overlap those of tensor 'a'"),
                new Bad("byte count mismatch", "{\"w\":" + f32(3, 0, 8) + "}", 8, "w", "span 8 bytes but F32 [3] needs 12"),
                new Bad("metadata not an object", "{\"__metadata__\": [\"a\"]}", 0, null, "__metadata__ must be an object"),
                new Bad("metadata not strings", "{\"__metadata__\": {\"lr\": 0.1}}", 0, null, "value of 'lr' must be a string"));
    }

    private static String f32(int n, int begin, int end) {
        return "{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void rejectsMalformedHeadersWithOneClearMessage(Bad bad) throws IOException {
        Path file = writeRaw("bad.safetensors", bad.header, new byte[bad.dataBytes]);
        SafeTensors.FormatException ex = assertThrows(SafeTensors.FormatException.class, () -> SafeTensors.read(file));
        assertTrue(ex.getMessage().startsWith(file.toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains(bad.fragment), ex.getMessage());
        assertEquals(file, ex.file());
        assertEquals(bad.tensor, ex.tensor());
        if (bad.tensor != null) assertTrue(ex.getMessage().contains("tensor '" + bad.tensor + "'"), ex.getMessage());
    }

    @Test
    void rejectsHeaderLengthsPastTheEndWithoutAllocating() throws IOException {
        for (long len : new long[] {1L << 40, -1L, Long.MIN_VALUE, 1_000_000, 93}) {
            Path file = tmp.resolve("len.safetensors");
            ByteBuffer b = ByteBuffer.allocate(100).order(ByteOrder.LITTLE_ENDIAN).putLong(len);
            b.put("{}".getBytes(StandardCharsets.US_ASCII));
            Files.write(file, b.array());
            SafeTensors.FormatException ex = assertThrows(SafeTensors.FormatException.class, () -> SafeTensors.read(file));
            assertTrue(ex.getMessage().startsWith(file + ": header length " + Long.toUnsignedString(len) + " runs past the end"), ex.getMessage());
        }
    }

    @Test
    void rejectsFilesTooShortForTheLength() throws IOException {
        Path file = tmp.resolve("short.safetensors");
        Files.write(file, new byte[] {2, 0, 0});
        SafeTensors.FormatException ex = assertThrows(SafeTensors.FormatException.class, () -> SafeTensors.read(file));
        assertTrue(ex.getMessage().contains(file + ": file of 3 bytes is too short"), ex.getMessage());
    }

    @Test
    void rejectsInvalidUtf8() throws IOException {
        Path file = tmp.resolve("utf.safetensors");
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header);
        Files.write(file, b.array());
        SafeTensors.FormatException ex = assertThrows(SafeTensors.FormatException.class, () -> SafeTensors.read(file));
        assertEquals(file + ": header is not valid UTF-8", ex.getMessage());
    }

    @Test
    void acceptsGapsEmptyTensorsAnywhereAndUnknownEntryFields() throws IOException {
        String header = "{\"a\":" + f32(1, 8, 12) + ",\"e\":{\"dtype\":\"F64\",\"shape\":[2,0],\"data_offsets\":[9,9]},"
                + "\"b\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8],\"extra\":true}}";
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-42).putFloat(0.5f);
        SafeTensors.File f = SafeTensors.read(writeRaw("gaps.safetensors", header, data.array()));
        assertEquals(List.of("a", "e", "b"), new ArrayList<>(f.tensors().keySet()));
        assertEquals(0.5, f.get("a").item());
        assertArrayEquals(new int[] {2, 0}, f.get("e").shape());
        assertEquals(-42L, f.get("b").toLongArray()[0]);
    }

    @Test
    void missingTensorOrMetadataNamesTheFile() throws IOException {
        Path file = tmp.resolve("names.safetensors");
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("matmul.in0", Tensor.zeros(DType.F64, 2));
        in.put("matmul.out", Tensor.zeros(DType.F64, 2));
        in.put("relu.in0", Tensor.zeros(DType.F64, 2));
        SafeTensors.write(file, in, Map.of("seed", "0"));
        SafeTensors.File f = SafeTensors.read(file);

        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> f.get("matmul.in2"));
        assertEquals("no tensor 'matmul.in2' in " + file + "; similar names: [matmul.in0, matmul.out]", ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> f.get("nothing"));
        assertEquals("no tensor 'nothing' in " + file + "; it has 3 tensors: [matmul.in0, matmul.out, relu.in0]", ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> f.meta("lr"));
        assertEquals("no metadata 'lr' in " + file + "; keys: [seed]", ex.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> f.tensors().clear());
    }

    // ---- atomic writes ------------------------------------------------------------------------

    @Test
    void successfulWriteLeavesNoTemporaryFilesAndReplacesTheOldFile() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafeTensors.write(file, Map.of("w", Tensor.zeros(DType.F32, 1000)), Map.of("v", "1"));
        SafeTensors.write(file, Map.of("w", Tensor.ones(DType.F32, 3)), Map.of("v", "2"));
        assertEquals(List.of(file), listDir());
        SafeTensors.File f = SafeTensors.read(file);
        assertEquals("2", f.meta("v"));
        assertArrayEquals(new float[] {1, 1, 1}, f.get("w").toFloatArray());
    }

    @Test
    void failedWriteLeavesTheOldFileUntouchedAndNoTemporaryFile() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafeTensors.write(file, Map.of("w", Tensor.arange(10, DType.F32)), Map.of("v", "old"));
        byte[] before = Files.readAllBytes(file);

        Tensor released;
        try (MemoryScope scope = MemoryScope.open()) {
            released = Tensor.zeros(DType.F32, 4);
        }
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("fine", Tensor.ones(DType.F64, 100_000)); // some data is written before the failure
        in.put("broken", released);
        assertThrows(IllegalStateException.class, () -> SafeTensors.write(file, in, Map.of("v", "new")));

        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listDir());
    }

    @Test
    void writeIntoAMissingDirectoryFailsCleanly() {
        Path file = tmp.resolve("no/such/dir/x.safetensors");
        assertThrows(NoSuchFileException.class, () -> SafeTensors.write(file, Map.of(), null));
        assertTrue(Files.notExists(file));
    }

    @Test
    void rejectsReservedAndNullNamesBeforeTouchingTheDisk() {
        Path file = tmp.resolve("r.safetensors");
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, Map.of("__metadata__", Tensor.zeros(DType.F32, 1)), null));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, Map.of(), meta));
        assertTrue(Files.notExists(file));
    }

    @Test
    void writesAFileWithNoTensors() throws IOException {
        Path file = tmp.resolve("none.safetensors");
        SafeTensors.write(file, Map.of(), Map.of());
        assertEquals(16, Files.size(file)); // length + "{}" padded to 8
        SafeTensors.File f = SafeTensors.read(file);
        assertTrue(f.tensors().isEmpty());
        assertTrue(f.metadata().isEmpty());
    }

    // ---- helpers ------------------------------------------------------------------------------

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.toList();
        }
    }

    private Path writeRaw(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path file = tmp == null ? Files.createTempFile("irtj", ".safetensors") : tmp.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    private static void assertBitwiseEqual(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.dtype(), actual.dtype(), what + " dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        switch (expected.dtype()) {
            case F32 -> assertFloatBits(expected.toFloatArray(), actual.toFloatArray());
            case F64 -> {
                double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
                assertEquals(e.length, a.length, what);
                for (int i = 0; i < e.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(e[i]), Double.doubleToRawLongBits(a[i]), what + "[" + i + "]");
                }
            }
            case I64 -> assertArrayEquals(expected.toLongArray(), actual.toLongArray(), what);
        }
    }

    private static void assertFloatBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
