package dev.irtj.tensor.pickle;

import dev.irtj.tensor.pickle.TorchArchiveTest.Bytes;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.irtj.tensor.pickle.TorchArchiveTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnpicklerTest {
    private static Object load(byte[] b) throws PickleException {
        return Unpickler.load(b, "test.pkl", AllowList.numpy(), null);
    }

    private static void refused(byte[] b, String expect) {
        PickleException e = assertThrows(PickleException.class, () -> load(b));
        assertOneLine(e, "test.pkl", expect);
    }

    @Test
    void plainValuesAndNumpyArraysFromPythonAtProtocols2To5() throws PickleException {
        for (int protocol : new int[] {2, 4, 5}) {
            Map<?, ?> m = assertInstanceOf(Map.class, load(PickleFixtures.bytes("plain_p" + protocol + ".pkl")));
            assertEquals(List.of(0L, 1L, -1L, 255L, 256L, 65535L, 65536L, (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE,
                    1L << 40, -(1L << 40), Long.MAX_VALUE, Long.MIN_VALUE), m.get("ints"), "protocol " + protocol);
            List<?> floats = (List<?>) m.get("floats");
            assertEquals(1.5, floats.get(0));
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) floats.get(1)));
            assertEquals(1e300, floats.get(2));
            assertEquals(Double.POSITIVE_INFINITY, floats.get(3));
            assertEquals("h\u00e9llo \u2603", m.get("str"));
            assertArrayEquals(new byte[] {0, (byte) 0xff, 0x7f}, (byte[]) m.get("bytes"));
            PyTuple t = (PyTuple) m.get("tuple");
            assertEquals(3, t.size());
            assertEquals(1L, t.get(0));
            assertEquals(List.of(2L, 3L), ((PyTuple) t.get(1)).items());
            List<?> nested = (List<?>) m.get("nested");
            assertEquals(List.of(1L), nested.get(0));
            Map<?, ?> inner = (Map<?, ?>) nested.get(1);
            assertTrue(inner.containsKey("a"));
            assertNull(inner.get("a"));
            assertEquals(List.of(true, false), nested.subList(2, 4));
            assertEquals("int key", m.get(7L));
            assertEquals("tuple key", m.get(PyTuple.of(Arrays.asList(1L, "t"))));
            assertEquals(Set.of(1L, 2L), m.get("set"));
            assertEquals(Set.of(3L), m.get("frozen"));
            assertEquals(List.of("z", "a"), new ArrayList<>(((Map<?, ?>) m.get("od")).keySet()));
            NumpyArray i64 = (NumpyArray) m.get("i64");
            assertArrayEquals(new int[] {2, 3}, i64.shape());
            assertArrayEquals(new long[] {1, -2, 3, 4, 5, 1L << 40}, longs(i64));
            assertArrayEquals(new long[] {0, 255}, longs((NumpyArray) m.get("u8")));
            assertArrayEquals(new long[] {1, -2}, longs((NumpyArray) m.get("i32be")));
            assertArrayEquals(new double[] {0.5, -1.25}, ((NumpyArray) m.get("f32")).toDoubles());
            assertArrayEquals(new double[] {1.0 / 3, 2.5}, ((NumpyArray) m.get("f64")).toDoubles());
            assertArrayEquals(new double[] {1.0, 65504.0}, ((NumpyArray) m.get("f16")).toDoubles());
            assertArrayEquals(new long[] {1, 0, 1}, longs((NumpyArray) m.get("b")));
            assertEquals(2.75, m.get("scalar"));
            assertEquals(-9L, m.get("iscalar"));
            assertEquals(0, ((NumpyArray) m.get("empty")).numel());
        }
    }

    private static long[] longs(NumpyArray a) {
        try {
            return a.toLongs();
        } catch (AllowList.BadArguments e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void globalsOutsideTheAllowListAreRefusedByNameOnEveryPath() {
        // REDUCE: os.system('echo pwned')
        refused(new Bytes().op(0x80, 2).text("cos\nsystem\n").unicode("echo pwned").op(0x85).op('R').op('.').toArray(),
                "refuses the global os.system (GLOBAL)");
        // STACK_GLOBAL + REDUCE: builtins.eval
        refused(new Bytes().op(0x80, 4).op(0x8c, 8).text("builtins").op(0x8c, 4).text("eval").op(0x93).unicode("1+1").op(0x85).op('R').op('.').toArray(),
                "refuses the global builtins.eval (STACK_GLOBAL)");
        // NEWOBJ: subprocess.Popen(['sh'])
        refused(new Bytes().op(0x80, 2).text("csubprocess\nPopen\n").op(']').unicode("sh").op('a').op(0x85).op(0x81).op('.').toArray(),
                "refuses the global subprocess.Popen");
        // INST: the class named inline
        refused(new Bytes().op('(').unicode("echo").text("ios\nsystem\n").op('.').toArray(), "refuses the global os.system (INST)");
        // OBJ: the class pushed by GLOBAL after the mark
        refused(new Bytes().op(0x80, 2).op('(').text("cbuiltins\nexec\n").unicode("x").op('o').op('.').toArray(),
                "refuses the global builtins.exec");
        // BUILD with a state that names a global (a __setstate__ payload)
        refused(new Bytes().op(0x80, 2).text("ccollections\nOrderedDict\n").op(')').op('R').op('}').unicode("x")
                .text("cposix\nsystem\n").op('s').op('b').op('.').toArray(), "refuses the global posix.system");
        // BUILD on a value that takes no state; REDUCE of a type that may only be named
        refused(new Bytes().op(0x80, 2).op(')').op('}').op('b').op('.').toArray(), "BUILD on a tuple of 0, which takes no state");
        refused(new Bytes().op(0x80, 2).text("cnumpy\nndarray\n").op(')').op('R').op('.').toArray(), "admits only as a type");
        // The extension registry names globals by number.
        refused(new Bytes().op(0x80, 2).op(0x82, 1).op('.').toArray(), "extension registry");
        // A name with control characters stays on one line.
        refused(new Bytes().op(0x80, 4).op(0x8c, 5).text("os\r\n\u0001").op(0x8c, 1).text("x").op(0x93).op('.').toArray(),
                "refuses the global os\\x0d\\x0a\\x01.x");
    }

    @Test
    void lengthsPastTheEndAreRefusedBeforeAllocating() {
        refused(new Bytes().op(0x80, 4).op(0x8d).int64(1L << 62).op('.').toArray(), "needs 4611686018427387904 bytes but 1 remain");
        refused(new Bytes().op(0x80, 4).op(0x8e).int64(-1L).op('.').toArray(), "needs 18446744073709551615 bytes");
        refused(new Bytes().op(0x80, 3).op('X').int32(0xffffffffL).op('.').toArray(), "needs 4294967295 bytes but 1 remain");
        refused(new Bytes().op(0x80, 3).op('B').int32(100).op('.').toArray(), "needs 100 bytes but 1 remain");
        refused(new Bytes().op(0x80, 4).op(0x95).int64(1 << 20).op('N', '.').toArray(), "frame of 1048576 bytes runs past the end");
        refused(new Bytes().op(0x80, 2).op(0x8b).int32(Integer.MAX_VALUE).op('.').toArray(), "needs 2147483647 bytes");
        refused(new Bytes().op(0x80, 2).op(0x8a, 9).int64(1).op(1).op('.').toArray(), "larger than 64 bits");
        refused(new Bytes().op(0x80, 2).op('N').toArray(), "ends before its STOP");
        refused(new Bytes().op(0x80, 2).text("cnumpy\n").toArray(), "without its newline");
    }

    @Test
    void nestingAndTheMemoAreBounded() throws PickleException {
        refused(new Bytes().op(0x80, 2).repeat(100_000, '(').op('.').toArray(), "nests deeper than 200 marks");
        refused(new Bytes().op(0x80, 2).op(')').repeat(100_000, 0x85).op('.').toArray(), "nests tuples deeper than 200");
        refused(new Bytes().op(0x80, 4).op('N').repeat(Unpickler.MAX_MEMO + 1, 0x94).op('.').toArray(), "memo grows past");
        refused(new Bytes().op(0x80, 2).op('h', 3).op('.').toArray(), "memo entry 3, which was never stored");
        refused(new Bytes().op(0x80, 2).op('}').op(']').op('N').op('s').op('.').toArray(), "unhashable key (a list)");
        refused(new Bytes().op(0x80, 2).op('N', 'N', '.').toArray(), "STOP with 2 values");
        refused(new Bytes().op(0x80, 2).op('a').toArray(), "pops an empty stack");
        // Lists nested 100 000 deep, and a list that holds itself, are values like any other:
        // nothing walks them recursively.
        Bytes deep = new Bytes().op(0x80, 2).repeat(100_000, ']').repeat(99_999, 'a').op('.');
        assertInstanceOf(List.class, load(deep.toArray()));
        List<?> self = (List<?>) load(new Bytes().op(0x80, 2).op(']').op('q', 0).op('h', 0).op('a').op('.').toArray());
        assertSame(self, self.get(0));
    }

    @Test
    void numpyArraysWithWrongSizesOrDtypesAreRefused() {
        // _reconstruct(ndarray, (0,), b'b') then BUILD (1, (3,), dtype('i8'), False, 16 bytes): 3 x 8 != 16
        Bytes b = new Bytes().op(0x80, 3).text("cnumpy.core.multiarray\n_reconstruct\n").text("cnumpy\nndarray\n").op('K', 0).op(0x85)
                .op('C', 1).text("b").op(0x87).op('R').op('(').op('K', 1).op('K', 3).op(0x85)
                .text("cnumpy\ndtype\n").unicode("i8").op(0x89, 0x88).op(0x87).op('R')
                .op(0x89).op('C', 16).repeat(16, 0).op('t').op('b').op('.');
        refused(b.toArray(), "needs 24 bytes, the data has 16");
        refused(new Bytes().op(0x80, 3).text("cnumpy\ndtype\n").unicode("O8").op(0x89, 0x88).op(0x87).op('R').op('.').toArray(),
                "dtype 'O8' is not read");
    }

    @Test
    void persistentIdsNeedAnArchive() {
        refused(new Bytes().op(0x80, 2).op('N').op('Q').op('.').toArray(), "persistent id");
    }

    @Test
    void plainDictsComeOutInOrder() throws PickleException {
        Map<?, ?> d = (Map<?, ?>) load(new Bytes().op(0x80, 2).op('}').op('(').unicode("b").op('K', 1).unicode("a").op('K', 2).op('u').op('.').toArray());
        assertEquals(new LinkedHashMap<>(Map.of("b", 1L)).keySet().iterator().next(), d.keySet().iterator().next());
        assertEquals(2L, d.get("a"));
    }
}
