package dev.irtj.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.irtj.index.IndexedImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The thumbnail cache: bounded by bytes, least recently used out first, keyed by the file's stamp. */
class ThumbnailsTest {
    @TempDir
    Path dir;

    private IndexedImage entry(String id, Path file) throws Exception {
        return new IndexedImage(id, file.toString(), null, null, Files.size(file), Files.getLastModifiedTime(file).toMillis(), 0, 0, Map.of());
    }

    @Test
    void theCacheStaysWithinItsBoundAndDropsTheLeastRecentlyUsed() throws Exception {
        Path a = TestImages.write(dir.resolve("a.png"), 1, 300, 200);
        Path b = TestImages.write(dir.resolve("b.png"), 2, 300, 200);
        Path c = TestImages.write(dir.resolve("c.png"), 3, 300, 200);
        int one = Thumbnails.make(a).length;
        Thumbnails cache = new Thumbnails(2L * one + one / 2); // room for two
        IndexedImage ea = entry("a", a), eb = entry("b", b), ec = entry("c", c);
        byte[] ta = cache.get(ea, a);
        byte[] tb = cache.get(eb, b);
        assertSame(ta, cache.get(ea, a), "a is cached, and now the most recently used");
        cache.get(ec, c);
        assertEquals(2, cache.cachedCount());
        assertTrue(cache.cachedBytes() <= 2L * one + one / 2);
        assertSame(ta, cache.get(ea, a), "a survived");
        assertNotSame(tb, cache.get(eb, b), "b, the least recently used, was evicted and is made again");
        assertEquals(2, cache.cachedCount());

        assertEquals(0, new Thumbnails(0).cachedCount());
        Thumbnails none = new Thumbnails(0);
        none.get(ea, a);
        assertEquals(0, none.cachedCount(), "a zero bound caches nothing");
    }

    @Test
    void aChangedFileGetsAFreshThumbnail() throws Exception {
        Path a = TestImages.write(dir.resolve("a.png"), 1, 64, 64);
        Thumbnails cache = new Thumbnails(1 << 20);
        byte[] before = cache.get(entry("a", a), a);
        TestImages.write(a, 9, 64, 32);
        Files.setLastModifiedTime(a, java.nio.file.attribute.FileTime.fromMillis(Files.getLastModifiedTime(a).toMillis() + 5000));
        byte[] after = cache.get(entry("a", a), a);
        BufferedImage im = ImageIO.read(new ByteArrayInputStream(after));
        assertEquals(32, im.getHeight(), "made from the new file");
        assertNotSame(before, after);
    }

    @Test
    void largeImagesScaleToTheLongSideAndKeepTheirShape() throws Exception {
        Path tall = TestImages.write(dir.resolve("tall.png"), 4, 500, 2000);
        BufferedImage t = ImageIO.read(new ByteArrayInputStream(Thumbnails.make(tall)));
        assertEquals(256, t.getHeight());
        assertEquals(64, t.getWidth());
    }
}
