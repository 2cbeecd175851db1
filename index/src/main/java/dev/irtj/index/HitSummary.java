package dev.irtj.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.lucene.store.ByteArrayDataInput;
import org.apache.lucene.store.ByteBuffersDataOutput;
import org.apache.lucene.util.BytesRef;

import java.io.IOException;
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
        ByteBuffersDataOutput out = new ByteBuffersDataOutput();
        try {
            out.writeByte(VERSION);
            out.writeString(img.id());
            out.writeString(img.path());
            if (img.label() == null) {
                out.writeByte((byte) 0);
            } else {
                out.writeByte((byte) 1);
                out.writeZLong(img.label());
            }
            out.writeZLong(img.bytes());
            out.writeZLong(img.modified());
            out.writeZInt(img.width());
            out.writeZInt(img.height());
            out.writeString(img.metadata().isEmpty() ? "" : JSON.writeValueAsString(img.metadata()));
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            // ByteBuffersDataOutput writes to memory and declares IOException only through DataOutput.
            throw new IllegalStateException("writing to memory failed", e);
        }
        return new BytesRef(out.toArrayCopy());
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
