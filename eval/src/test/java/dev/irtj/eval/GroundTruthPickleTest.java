package dev.irtj.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * revisitop-layout gnd pickles written by Python's pickle.dump at protocols 2, 4 and 5 with numpy
 * arrays (scripts/make-pickle-fixtures.py) read into the same ground truth as the JSON form that
 * the same script wrote from the same dict.
 */
class GroundTruthPickleTest {
    private static Path resource(Path dir, String name) throws IOException {
        Path f = dir.resolve(name);
        try (InputStream in = GroundTruthPickleTest.class.getResourceAsStream("/revisitop/" + name)) {
            Files.copy(in, f);
        }
        return f;
    }

    @Test
    void picklesAtProtocols2To5MatchTheJsonOfTheSameDict(@TempDir Path dir) throws IOException {
        GroundTruthFile want = GroundTruthFile.read(resource(dir, "gnd_mini.json"));
        assertEquals(4, want.gnd().size());
        for (int protocol : new int[] {2, 4, 5}) {
            Path f = resource(dir, "gnd_mini_p" + protocol + ".pkl");
            assertTrue(GroundTruthPickle.isPickle(f));
            GroundTruthFile got = GroundTruthFile.read(f);
            assertEquals(want.imlist(), got.imlist(), "protocol " + protocol);
            assertEquals(want.qimlist(), got.qimlist());
            assertEquals(want.gnd(), got.gnd());
            for (int q = 0; q < want.gnd().size(); q++) assertArrayEquals(want.queryBoxes().get(q), got.queryBoxes().get(q), 0.0);
            assertEquals(0, got.gnd().get(1).hard().length, "an empty numpy array");
        }
    }

    @Test
    void wrongShapesSayWhatIsWrongInOneLine(@TempDir Path dir) throws IOException {
        // {'gnd': [{'easy': [1.5]}]} at protocol 2: a float where an index is expected.
        byte[] floatIndex = {(byte) 0x80, 2, '}', 'X', 3, 0, 0, 0, 'g', 'n', 'd', ']', '}', 'X', 4, 0, 0, 0, 'e', 'a', 's', 'y', ']',
                'G', 0x3f, (byte) 0xf8, 0, 0, 0, 0, 0, 0, 'a', 's', 'a', 's', '.'};
        Path f = dir.resolve("bad.pkl");
        Files.write(f, floatIndex);
        IOException e = assertThrows(IOException.class, () -> GroundTruthFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("gnd[0].easy[0] is a float, not an int"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // {'imlist': ['a'], 'gnd': [{'easy': [5]}]}: an index beyond imlist.
        byte[] beyond = {(byte) 0x80, 2, '}', 'X', 6, 0, 0, 0, 'i', 'm', 'l', 'i', 's', 't', ']', 'X', 1, 0, 0, 0, 'a', 'a', 's',
                'X', 3, 0, 0, 0, 'g', 'n', 'd', ']', '}', 'X', 4, 0, 0, 0, 'e', 'a', 's', 'y', ']', 'K', 5, 'a', 's', 'a', 's', '.'};
        Files.write(f, beyond);
        e = assertThrows(IOException.class, () -> GroundTruthFile.read(f));
        assertTrue(e.getMessage().contains("names database index 5 but imlist has 1 images"), e.getMessage());
    }
}
