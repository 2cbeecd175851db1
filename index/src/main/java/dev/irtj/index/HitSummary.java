package dev.irtj.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.lucene.store.ByteArrayDataInput;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.UnicodeUtil;

import java.io.IOException;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a search hit reports of an image (all of {@link IndexedImage} but the vector) in
 * one binary doc value per document, so that a hit costs one doc-values read instead of eight.
 *
 * <p>Why: the search profile on the 48-d demo descriptors had a quarter of a query's time in
 * reading its ten hits: eight doc-values iterators per segment per query, and the id's sorted
 * doc values decompressing an LZ4 block of its terms dictionary per hit. A binary doc value is
 * an address lookup and a copy. Since then it is the only place a document keeps these fields
 * (see {@link LuceneIndex#document}); documents of older layouts keep them in per-field doc
 * values too, and those written before summaries existed only there.
 *
 * <p>Layout (Lucene's DataOutput encodings): a version byte (1); id and path as strings; a
 * label flag byte (0 none, 1 present) followed by the label as a zig-zag vlong; bytes and
 * modified as zig-zag vlongs; width and height as zig-zag vints; the metadata as its JSON
 * object string, empty when there is none.
 */
final class HitSummary {
    private static final byte VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, String>> METADATA = new TypeReference<>() { };

    private HitSummary() {
    }

    static BytesRef encode(IndexedImage img) throws JsonProcessingException {
        String metadata = img.metadata().isEmpty() ? "" : JSON.writeValueAsString(img.metadata());
        Writer out = new Writer();
        out.writeByte(VERSION);
        out.writeString(img.id());
        out.writeString(img.path());
        if (img.label() == null) {
            out.writeByte(0);
        } else {
            out.writeByte(1);
            out.writeZLong(img.label());
        }
        out.writeZLong(img.bytes());
        out.writeZLong(img.modified());
        out.writeZLong(img.width());
        out.writeZLong(img.height());
        out.writeString(metadata);
        return new BytesRef(out.bytes, 0, out.length);
    }

    /**
     * Lucene's DataOutput encodings that {@link #encode} uses, byte for byte (the decoders are
     * Lucene's DataInput), over one array: a string as the vint length of its UTF-8 bytes, then
     * the bytes; a zig-zag vlong as its zig-zag value in 7-bit groups, low first, the high bit of
     * a byte saying another follows (a zig-zag vint of a width or height is the same bytes as the
     * zig-zag vlong of the same value). Why not Lucene's ByteBuffersDataOutput itself: one per
     * summary is a block list and buffers to allocate, and in a fresh JVM its writers were
     * ~40 ms of the JIT's time in a 9000-image index build (bench/README.md, "The build's
     * beam and its summaries"). HitSummaryTest checks the bytes against Lucene's.
     */
    private static final class Writer {
        byte[] bytes = new byte[64];
        int length;

        void writeByte(int b) {
            if (length == bytes.length) bytes = Arrays.copyOf(bytes, 2 * length);
            bytes[length++] = (byte) b;
        }

        /** Lucene's own UTF-8 conversion, so that even an unpaired surrogate becomes the same bytes (U+FFFD). */
        void writeString(String s) {
            int utf8 = UnicodeUtil.calcUTF16toUTF8Length(s, 0, s.length());
            writeUnsigned(utf8);
            if (bytes.length - length < utf8) bytes = Arrays.copyOf(bytes, Math.max(2 * bytes.length, length + utf8));
            length = UnicodeUtil.UTF16toUTF8(s, 0, s.length(), bytes, length);
        }

        void writeZLong(long v) {
            writeUnsigned((v << 1) ^ (v >> 63));
        }

        private void writeUnsigned(long v) {
            while ((v & ~0x7FL) != 0) {
                writeByte((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            writeByte((int) v);
        }
    }

    /** The image (without its vector) of a summary written by {@link #encode}. */
    static IndexedImage decode(BytesRef summary, Supplier<String> where) throws IOException {
        ByteArrayDataInput in = input(summary, where);
        Head head = Head.read(in, where);
        int width = in.readZInt();
        int height = in.readZInt();
        String json = in.readString();
        Map<String, String> metadata = json.isEmpty() ? Map.of() : JSON.readValue(json, METADATA);
        return new IndexedImage(head.id, head.path, null, head.label, head.bytes, head.modified, width, height, metadata);
    }

    /** The id and what says whether the file changed ({@link VectorIndex#stamps}), without decoding the metadata. */
    static Map.Entry<String, IndexedImage.Stamp> stamp(BytesRef summary, Supplier<String> where) throws IOException {
        Head head = Head.read(input(summary, where), where);
        return Map.entry(head.id, new IndexedImage.Stamp(head.path, head.bytes, head.modified));
    }

    /** The fields before width, height and metadata, as {@link #encode} writes them: what both decoders read. */
    private record Head(String id, String path, Long label, long bytes, long modified) {
        static Head read(ByteArrayDataInput in, Supplier<String> where) throws IOException {
            String id = in.readString();
            String path = in.readString();
            byte flag = in.readByte();
            if (flag != 0 && flag != 1) throw new IOException(where.get() + ": a hit summary with label flag " + flag + " (expected 0 or 1)");
            Long label = flag == 1 ? in.readZLong() : null;
            return new Head(id, path, label, in.readZLong(), in.readZLong());
        }
    }

    /** The id alone (the first field), for ordering ties without decoding the rest. */
    static String id(BytesRef summary, Supplier<String> where) throws IOException {
        return input(summary, where).readString();
    }

    private static ByteArrayDataInput input(BytesRef summary, Supplier<String> where) throws IOException {
        if (summary.length == 0 || summary.bytes[summary.offset] != VERSION) {
            throw new IOException(where.get() + ": a hit summary of version "
                    + (summary.length == 0 ? "(empty)" : Integer.toString(summary.bytes[summary.offset])) + ", expected " + VERSION);
        }
        return new ByteArrayDataInput(summary.bytes, summary.offset + 1, summary.length - 1);
    }
}
