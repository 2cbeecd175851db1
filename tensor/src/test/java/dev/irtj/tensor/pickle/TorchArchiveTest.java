package dev.irtj.tensor.pickle;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** torch.save archives written by PyTorch 1.13 (scripts/make-pickle-fixtures.py), read tensor for tensor. */
class TorchArchiveTest {
    private static Map<String, Tensor> expected(String prefix) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        SafeTensors.read(PickleFixtures.path("expected.safetensors")).tensors().forEach((k, v) -> {
            if (k.startsWith(prefix + ".")) out.put(k.substring(prefix.length() + 1), v);
        });
        assertFalse(out.isEmpty(), prefix);
        return out;
    }

    /** Same names in the same order, dtypes, shapes and values bit for bit. */
    private static void assertSameTensors(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()));
        for (String k : want.keySet()) {
            Tensor w = want.get(k), g = got.get(k);
            assertEquals(w.dtype(), g.dtype(), k);
            assertArrayEquals(w.shape(), g.shape(), k);
            if (w.dtype() == DType.I64) {
                assertArrayEquals(w.toLongArray(), g.toLongArray(), k);
            } else {
                assertArrayEquals(w.toDoubleArray(), g.toDoubleArray(), 0.0, k);
            }
        }
    }

    @Test
    void stateDictsInF32F16AndBf16MatchPyTorchExactly() throws IOException {
        for (String tag : List.of("f32", "f16", "bf16")) {
            Map<String, Tensor> got = TorchArchive.readStateDict(PickleFixtures.path("vit_" + tag + ".pth"));
            assertSameTensors(expected(tag), got);
            for (Tensor t : got.values()) assertEquals(DType.F32, t.dtype());
        }
    }

    @Test
    void deitReleaseFormUnwrapsTheModelEntry() throws IOException {
        assertSameTensors(expected("f32"), TorchArchive.readStateDict(PickleFixtures.path("vit_model_f32.pth")));
        Map<String, Tensor> distilled = TorchArchive.readStateDict(PickleFixtures.path("deit_distilled_model.pth"));
        assertSameTensors(expected("distilled"), distilled);
        assertTrue(distilled.containsKey("dist_token"));
    }

    @Test
    void aRealModulesStateDictWithItsMetadataLoads() throws IOException {
        // nn.Module.state_dict() pickles its _metadata attribute with BUILD on the OrderedDict.
        byte[] pkl = PickleFixtures.bytes("module_state_dict.pth");
        assertTrue(new String(pkl, java.nio.charset.StandardCharsets.ISO_8859_1).contains("_metadata"));
        assertSameTensors(expected("module"), TorchArchive.readStateDict(PickleFixtures.path("module_state_dict.pth")));
    }

    @Test
    void stridesOffsetsSharedStoragesParametersF64AndI64AreHonoured() throws IOException {
        Map<String, Tensor> got = TorchArchive.readStateDict(PickleFixtures.path("views.pth"));
        assertSameTensors(expected("views"), got);
        assertArrayEquals(new int[] {6, 4}, got.get("transposed").shape());
        assertEquals(3L << 0, got.get("long").toLongArray()[0]);
        assertEquals(1L << 40, got.get("long").toLongArray()[2]);
    }

    @Test
    void aFileThatIsNotAZipSaysSo() throws IOException {
        Path legacy = PickleFixtures.path("legacy.pth");
        assertFalse(TorchArchive.isZip(legacy));
        PickleException e = assertThrows(PickleException.class, () -> TorchArchive.readStateDict(legacy));
        assertOneLine(e, legacy.toString(), "not a readable zip archive");
        assertTrue(TorchArchive.isZip(PickleFixtures.path("vit_f32.pth")));
    }

    // ---- hand-made hostile archives -------------------------------------------------------------

    /** A zip of stored entries, as torch.save writes them. */
    static void zip(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                ze.setMethod(ZipEntry.STORED);
                ze.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                ze.setCrc(crc.getValue());
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** data.pkl of {'w': _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', NUMEL), 0, SIZE, STRIDE, False, OrderedDict())}. */
    static byte[] tensorPickle(long numel, int size, int stride, String storageType) {
        Bytes b = new Bytes().op(0x80, 2).op('}').unicode("w")
                .text("ctorch._utils\n_rebuild_tensor_v2\n").op('(')
                .op('(').unicode("storage").text("ctorch\n" + storageType + "\n").unicode("0").unicode("cpu").binLong(numel).op('t')
                .op('Q').op('K', 0).op('J').int32(size).op(0x85).op('K', stride).op(0x85).op(0x89)
                .text("ccollections\nOrderedDict\n").op(')').op('R').op('t').op('R').op('s').op('.');
        return b.toArray();
    }

    @Test
    void hostileArchivesAreRefusedInOneLine(@TempDir Path dir) throws IOException {
        record Case(String what, Map<String, byte[]> entries, String expect) {
        }
        byte[] four = new byte[16];
        List<Case> cases = new ArrayList<>();
        Map<String, byte[]> os = new LinkedHashMap<>();
        os.put("archive/data.pkl", new Bytes().op(0x80, 2).text("cos\nsystem\n").unicode("echo pwned").op(0x85).op('R').op('.').toArray());
        cases.add(new Case("os.system", os, "refuses the global os.system"));
        Map<String, byte[]> huge = new LinkedHashMap<>();
        huge.put("archive/data.pkl", tensorPickle(1L << 40, 4, 1, "FloatStorage"));
        huge.put("archive/data/0", four);
        cases.add(new Case("2^40 storage", huge, "1099511627776 elements"));
        Map<String, byte[]> sizeLie = new LinkedHashMap<>();
        sizeLie.put("archive/data.pkl", tensorPickle(1000, 4, 1, "FloatStorage"));
        sizeLie.put("archive/data/0", four);
        cases.add(new Case("size lie", sizeLie, "needs 4000 bytes but its record holds 16"));
        Map<String, byte[]> reach = new LinkedHashMap<>();
        reach.put("archive/data.pkl", tensorPickle(4, 3, 2, "FloatStorage"));
        reach.put("archive/data/0", four);
        cases.add(new Case("reach", reach, "reach element 4 of storage '0' of 4"));
        Map<String, byte[]> missing = new LinkedHashMap<>();
        missing.put("archive/data.pkl", tensorPickle(4, 4, 1, "FloatStorage"));
        cases.add(new Case("missing record", missing, "has no record archive/data/0"));
        Map<String, byte[]> ints = new LinkedHashMap<>();
        ints.put("archive/data.pkl", tensorPickle(4, 4, 1, "IntStorage"));
        ints.put("archive/data/0", four);
        cases.add(new Case("int storage", ints, "torch.IntStorage, which irtj does not read"));
        Map<String, byte[]> none = new LinkedHashMap<>();
        none.put("something/else.txt", four);
        cases.add(new Case("no data.pkl", none, "without a PREFIX/data.pkl"));
        Map<String, byte[]> notDict = new LinkedHashMap<>();
        notDict.put("archive/data.pkl", new Bytes().op(0x80, 2).op(']').op('.').toArray());
        cases.add(new Case("a list", notDict, "holds a list, not a dict of tensors"));
        for (Case c : cases) {
            Path f = dir.resolve(c.what.replace(' ', '_') + ".pth");
            zip(f, c.entries);
            PickleException e = assertThrows(PickleException.class, () -> TorchArchive.readStateDict(f), c.what);
            assertOneLine(e, f.toString(), c.expect);
        }
        // The same pickle with a consistent storage loads.
        Map<String, byte[]> ok = new LinkedHashMap<>();
        ok.put("archive/data.pkl", tensorPickle(4, 4, 1, "FloatStorage"));
        ok.put("archive/data/0", new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, (byte) 0xc0, 0x7f});
        Path f = dir.resolve("ok.pth");
        zip(f, ok);
        Tensor w = TorchArchive.readStateDict(f).get("w");
        assertEquals(1.0f, w.toFloatArray()[0]);
        assertEquals(2.0f, w.toFloatArray()[1]);
        assertTrue(Float.isNaN(w.toFloatArray()[3]));
    }

    static void assertOneLine(Exception e, String file, String expect) {
        String m = e.getMessage();
        assertTrue(m.startsWith(file), "names the file: " + m);
        assertTrue(m.contains(expect), "says '" + expect + "': " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
    }

    /** A tiny pickle assembler for hostile inputs. */
    static final class Bytes {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        Bytes op(int... codes) {
            for (int c : codes) out.write(c);
            return this;
        }

        Bytes text(String s) {
            out.writeBytes(s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            return this;
        }

        Bytes int32(long v) {
            for (int i = 0; i < 4; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }

        Bytes int64(long v) {
            for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }

        Bytes unicode(String s) {
            byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            op('X').int32(b.length);
            out.writeBytes(b);
            return this;
        }

        /** LONG1 of 8 bytes. */
        Bytes binLong(long v) {
            return op(0x8a, 8).int64(v);
        }

        Bytes repeat(int n, int code) {
            for (int i = 0; i < n; i++) out.write(code);
            return this;
        }

        byte[] toArray() {
            return out.toByteArray();
        }

        @Override
        public String toString() {
            return Arrays.toString(toArray());
        }
    }
}
