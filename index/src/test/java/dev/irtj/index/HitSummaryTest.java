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

    /**
     * The summary's bytes are those Lucene's DataOutput writes for the same fields (the layout
     * HitSummary's comment gives, written here with ByteBuffersDataOutput: what summaries were
     * before their writer was our own), for random images: any long, any int, strings of any
     * chars, unpaired surrogates included, and metadata.
     */
    @Test
    void theBytesAreLuceneDataOutputs() throws IOException {
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        long[] edges = {0, 1, -1, 63, 64, -64, -65, 127, 128, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE};
        for (int t = 0; t < 2000; t++) {
            Map<String, String> meta = t % 3 == 0 ? Map.of() : Map.of(randomString(r), randomString(r));
            IndexedImage img = new IndexedImage(randomString(r), randomString(r), null,
                    t % 4 == 0 ? null : Long.valueOf(anyLong(r, edges)), anyLong(r, edges), anyLong(r, edges),
                    (int) anyLong(r, edges), (int) anyLong(r, edges), meta);
            org.apache.lucene.store.ByteBuffersDataOutput lucene = new org.apache.lucene.store.ByteBuffersDataOutput();
            lucene.writeByte((byte) 1);
            lucene.writeString(img.id());
            lucene.writeString(img.path());
            lucene.writeByte((byte) (img.label() == null ? 0 : 1));
            if (img.label() != null) lucene.writeZLong(img.label());
            lucene.writeZLong(img.bytes());
            lucene.writeZLong(img.modified());
            lucene.writeZInt(img.width());
            lucene.writeZInt(img.height());
            lucene.writeString(meta.isEmpty() ? "" : new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(meta));
            assertEquals(new BytesRef(lucene.toArrayCopy()), HitSummary.encode(img), "image " + t + ": " + img);
        }
    }

    private static long anyLong(java.util.SplittableRandom r, long[] edges) {
        switch (r.nextInt(3)) {
            case 0: return edges[r.nextInt(edges.length)];
            case 1: return r.nextLong() >> r.nextInt(64);
            default: return r.nextLong();
        }
    }

    /** Up to 200 chars: ASCII, Latin-1, BMP, surrogate pairs and lone surrogates mixed. */
    private static String randomString(java.util.SplittableRandom r) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(r.nextBoolean() ? 8 : 200); i > 0; i--) {
            switch (r.nextInt(5)) {
                case 0: b.append((char) r.nextInt(0x20, 0x7f)); break;
                case 1: b.append((char) r.nextInt(0x80, 0x800)); break;
                case 2: b.append((char) r.nextInt(0x800, 0xd800)); break;
                case 3: b.appendCodePoint(r.nextInt(0x10000, 0x110000)); break;
                default: b.append((char) r.nextInt(0xd800, 0xe000)); break;
            }
        }
        return b.toString();
    }

    @Test
    void anotherVersionIsOneLineNamingWhere() {
        IOException e = assertThrows(IOException.class, () -> HitSummary.decode(new BytesRef(new byte[] {9, 0}), () -> "idx document 3"));
        assertEquals("idx document 3: a hit summary of version 9, expected 1", e.getMessage());
        e = assertThrows(IOException.class, () -> HitSummary.id(new BytesRef(new byte[0]), () -> "idx document 4"));
        assertTrue(e.getMessage().startsWith("idx document 4: a hit summary of version (empty)"), e.getMessage());
    }
}
