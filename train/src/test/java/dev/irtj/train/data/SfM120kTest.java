package dev.irtj.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * retrieval-SfM-120k.pkl as written by pickle.dump (scripts/make-sfm-fixture.py): lists as the
 * real file holds them, and numpy arrays at protocol 2, against the same split as text.
 */
class SfM120kTest {

    private static Path layout(Path dir, String resource) throws IOException {
        try (InputStream in = SfM120kTest.class.getResourceAsStream("/sfm-mini/" + resource)) {
            Files.copy(in, dir.resolve(SfM120k.PICKLE));
        }
        return dir;
    }

    @Test
    void readsTheSplitAsPythonWroteIt(@TempDir Path dir) throws IOException {
        List<String> lines;
        try (InputStream in = SfM120kTest.class.getResourceAsStream("/sfm-mini/train-split.txt")) {
            lines = new ArrayList<>(List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")));
        }
        String pairs = lines.remove(lines.size() - 1);
        for (String resource : List.of("retrieval-SfM-120k.pkl", "retrieval-SfM-120k-numpy-p2.pkl")) {
            Path d = Files.createDirectories(dir.resolve(resource));
            SfM120k s = SfM120k.read(layout(d, resource), SfM120k.Split.TRAIN);
            assertEquals(lines.size(), s.images().size(), resource);
            assertEquals(5, s.images().numClasses());
            for (int i = 0; i < lines.size(); i++) {
                String[] f = lines.get(i).split(" ");
                String cid = f[0];
                Path want = d.resolve("ims").resolve(cid.substring(10, 12)).resolve(cid.substring(8, 10)).resolve(cid.substring(6, 8)).resolve(cid);
                assertEquals(ImageSource.file(want), s.images().source(i), resource + " image " + i);
                assertEquals(Long.parseLong(f[1]), s.images().label(i));
            }
            String[] qp = pairs.substring("pairs ".length()).split(" ");
            int[] q = new int[qp.length], p = new int[qp.length];
            for (int i = 0; i < qp.length; i++) {
                q[i] = Integer.parseInt(qp[i].split(":")[0]);
                p[i] = Integer.parseInt(qp[i].split(":")[1]);
            }
            assertArrayEquals(q, s.queries(), resource);
            assertArrayEquals(p, s.positives(), resource);
            SfM120k val = SfM120k.read(d, SfM120k.Split.VAL);
            assertEquals(12, val.images().size());
            assertEquals(3, val.images().numClasses());
        }
    }

    @Test
    void cid2filenameSplitsTheLastSixCharacters() {
        assertEquals(Path.of("ims/ef/cd/ab/0123abcdef"), SfM120k.imagePath(Path.of("ims"), "0123abcdef"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SfM120k.imagePath(Path.of("ims"), "abc"));
        assertTrue(e.getMessage().contains("'abc'"), e.getMessage());
    }

    @Test
    void aMissingPickleOrAnotherDictIsOneLine(@TempDir Path dir) throws IOException {
        IOException missing = assertThrows(IOException.class, () -> SfM120k.read(dir, SfM120k.Split.TRAIN));
        assertTrue(missing.getMessage().contains(SfM120k.PICKLE) && missing.getMessage().contains("ims/"), missing.getMessage());
        // revisitop's ground truth is a pickle too, but not this dict.
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.write(other.resolve(SfM120k.PICKLE), new byte[] {(byte) 0x80, 4, '}', '.'});
        IOException wrong = assertThrows(IOException.class, () -> SfM120k.read(other, SfM120k.Split.TRAIN));
        assertTrue(wrong.getMessage().contains("\"train\" dict") && !wrong.getMessage().contains("\n"), wrong.getMessage());
    }
}
