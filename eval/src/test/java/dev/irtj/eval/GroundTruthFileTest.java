package dev.irtj.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroundTruthFileTest {

    private static GroundTruthFile parse(String json) throws IOException {
        return GroundTruthFile.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test.json");
    }

    @Test
    void readsTheDocumentedFormat() throws IOException {
        GroundTruthFile f = parse("""
                {"dataset": "roxford5k", "imlist": ["a", "b", "c", "d"], "qimlist": ["q0", "q1"],
                 "gnd": [{"easy": [0, 2], "hard": [1], "junk": [3], "bbx": [1.5, 2, 30, 40.25]},
                         {"hard": [3], "extra": "ignored"}]}
                """);
        assertEquals("roxford5k", f.dataset());
        assertEquals(List.of("a", "b", "c", "d"), f.imlist());
        assertEquals(List.of("q0", "q1"), f.qimlist());
        assertEquals(new GroundTruth(new int[] {0, 2}, new int[] {1}, new int[] {3}), f.gnd().get(0));
        assertEquals(new GroundTruth(null, new int[] {3}, null), f.gnd().get(1));
        assertArrayEquals(new double[] {1.5, 2, 30, 40.25}, f.queryBoxes().get(0));
        assertNull(f.queryBoxes().get(1));
    }

    @Test
    void aTopLevelArrayIsTheGroundTruthAlone() throws IOException {
        GroundTruthFile f = parse("[{\"easy\": [5]}, {}]");
        assertEquals(2, f.gnd().size());
        assertArrayEquals(new int[] {5}, f.gnd().get(0).easy());
        assertEquals(0, f.gnd().get(1).junk().length);
        assertTrue(f.imlist().isEmpty());
    }

    @Test
    void writeThenReadGivesTheSame(@TempDir Path dir) throws IOException {
        GroundTruthFile f = new GroundTruthFile("rparis6k", List.of("x", "y", "z"), List.of("q"),
                List.of(new GroundTruth(new int[] {2}, new int[] {0}, new int[] {1})),
                List.of(new double[] {0, 1, 2, 3}));
        Path p = dir.resolve("gnd.json");
        f.write(p);
        GroundTruthFile back = GroundTruthFile.read(p);
        assertEquals(f.dataset(), back.dataset());
        assertEquals(f.imlist(), back.imlist());
        assertEquals(f.qimlist(), back.qimlist());
        assertEquals(f.gnd(), back.gnd());
        assertArrayEquals(f.queryBoxes().get(0), back.queryBoxes().get(0));
        assertEquals(List.of("gnd.json"), Files.list(dir).map(x -> x.getFileName().toString()).toList());
    }

    @Test
    void reportsMistakesWithTheirPlace() {
        IOException e = assertThrows(IOException.class, () -> parse("{\"imlist\": [\"a\"], \"gnd\": [{\"easy\": [0]}, {\"junk\": [1]}]}"));
        assertTrue(e.getMessage().contains("query 1") && e.getMessage().contains("test.json"), e.getMessage());
        e = assertThrows(IOException.class, () -> parse("{\"gnd\": [{\"easy\": [0.5]}]}"));
        assertTrue(e.getMessage().contains("gnd[0].easy[0]"), e.getMessage());
        e = assertThrows(IOException.class, () -> parse("{\"gnd\": [{\"easy\": [-2]}]}"));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        assertThrows(IOException.class, () -> parse("{\"qimlist\": [\"a\", \"b\"], \"gnd\": [{}]}"));
        assertThrows(IOException.class, () -> parse("{\"easy\": [1]}"));
        assertThrows(IOException.class, () -> parse("{\"gnd\": [ {"));
        assertThrows(IOException.class, () -> parse(""));
    }
}
