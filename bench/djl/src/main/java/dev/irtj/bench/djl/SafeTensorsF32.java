package dev.irtj.bench.djl;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Float32 safetensors, just enough for the equivalence check's files (this module cannot use
 * irtj's reader: it is built on its own, outside the reactor). Layout: an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte range, the data.
 */
final class SafeTensorsF32 {
    record Entry(int[] shape, float[] data) {
    }

    private SafeTensorsF32() {
    }

    static Map<String, Entry> read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8) throw new IOException(file + ": shorter than a safetensors header");
        long headerLength = buf.getLong(0);
        if (headerLength < 2 || 8 + headerLength > bytes.length) throw new IOException(file + ": header length " + headerLength + " does not fit the file");
        JsonObject header = JsonParser.parseString(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8)).getAsJsonObject();
        int base = 8 + (int) headerLength;
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) continue;
            JsonObject info = e.getValue().getAsJsonObject();
            if (!info.get("dtype").getAsString().equals("F32")) throw new IOException(file + ": tensor " + e.getKey() + " is " + info.get("dtype") + ", not F32");
            int[] shape = new int[info.getAsJsonArray("shape").size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) numel *= shape[i] = info.getAsJsonArray("shape").get(i).getAsInt();
            long from = info.getAsJsonArray("data_offsets").get(0).getAsLong(), to = info.getAsJsonArray("data_offsets").get(1).getAsLong();
            if (to - from != numel * 4 || base + to > bytes.length) throw new IOException(file + ": tensor " + e.getKey() + " has a byte range that does not match its shape");
            float[] data = new float[(int) numel];
            buf.position(base + (int) from);
            buf.asFloatBuffer().get(data);
            out.put(e.getKey(), new Entry(shape, data));
        }
        return out;
    }

    /** Writes atomically: a temporary file in the same folder, renamed over {@code file}. */
    static void write(Path file, Map<String, Entry> tensors) throws IOException {
        StringBuilder json = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            if (json.length() > 1) json.append(',');
            json.append('"').append(e.getKey().replace("\\", "\\\\").replace("\"", "\\\"")).append("\":{\"dtype\":\"F32\",\"shape\":[");
            int[] s = e.getValue().shape();
            for (int i = 0; i < s.length; i++) json.append(i == 0 ? "" : ",").append(s[i]);
            long bytes = 4L * e.getValue().data().length;
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        while ((json.length() + 8) % 8 != 0) json.append(' ');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(8 + header.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).put(header);
        for (Entry e : tensors.values()) for (float v : e.data()) buf.putFloat(v);
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, buf.array());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
