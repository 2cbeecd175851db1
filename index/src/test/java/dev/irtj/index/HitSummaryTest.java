package dev.irtj.index;

import org.apache.lucene.util.BytesRef;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A hit summary gives back every field of the image but its vector; a foreign value is one line. */
class HitSummaryTest {
    @Test
    void everyFieldButTheVectorComesBack() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("caption", "ünïcode \uD83D\uDE00, \"quoted\"");
        meta.put("empty", "");
        IndexedImage[] images = {
            new IndexedImage("a/b.png", "/data/a/b.png", new float[] {1}, 7L, 1234, 1_700_000_000_123L, 640, 480, meta),
            new IndexedImage("x", "", null, null, 0, -5, 0, -1, Map.of()),
            new IndexedImage("neg", "p", null, Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE,
                    Map.of("k", "v")),
        };
        for (IndexedImage img : images) {
            BytesRef encoded = HitSummary.encode(img);
            // Decoded from inside a larger buffer, as doc values hand it over.
            byte[] padded = new byte[encoded.length + 6];
            System.arraycopy(encoded.bytes, encoded.offset, padded, 3, encoded.length);
            BytesRef slice = new BytesRef(padded, 3, encoded.length);
            IndexedImage back = HitSummary.decode(slice, () -> "test");
            assertNull(back.vector());
            assertEquals(new IndexedImage(img.id(), img.path(), null, img.label(), img.bytes(), img.modified(), img.width(), img.height(),
                    img.metadata()), back);
            assertEquals(img.metadata(), back.metadata());
            assertEquals(img.id(), HitSummary.id(slice, () -> "test"));
        }
    }

    @Test
    void anotherVersionIsOneLineNamingWhere() {
        IOException e = assertThrows(IOException.class, () -> HitSummary.decode(new BytesRef(new byte[] {9, 0}), () -> "idx document 3"));
        assertEquals("idx document 3: a hit summary of version 9, expected 1", e.getMessage());
        e = assertThrows(IOException.class, () -> HitSummary.id(new BytesRef(new byte[0]), () -> "idx document 4"));
        assertTrue(e.getMessage().startsWith("idx document 4: a hit summary of version (empty)"), e.getMessage());
    }
}
