package dev.irtj.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * User metadata for the images of a catalogue: a CSV file with a header row and a {@code path}
 * column, or JSON lines ({@code .jsonl}, {@code .ndjson}) with a {@code path} key; every other
 * column/key becomes a metadata field of that image (JSON numbers and booleans as their text,
 * nested values as JSON). A {@code label} column, when present, must hold integers and becomes
 * the image's label instead of the folder's. Paths are relative to the catalogue root (or
 * absolute). Errors name the file and line.
 */
public final class Sidecar {
    /** The column that names the image. */
    public static final String PATH = "path";
    /** The optional column of integer labels. */
    public static final String LABEL = "label";

    /** One row: where it came from (for messages), the path as written, the label and fields. */
    public record Row(int line, String path, Long label, Map<String, String> fields) {
    }

    private final Path file;
    private final List<Row> rows;

    private Sidecar(Path file, List<Row> rows) {
        this.file = file;
        this.rows = rows;
    }

    public Path file() {
        return file;
    }

    public List<Row> rows() {
        return rows;
    }

    /** Reads a {@code .csv}, {@code .jsonl} or {@code .ndjson} file. */
    public static Sidecar read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no such metadata file");
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not UTF-8 text (expected a CSV or JSON-lines metadata file)");
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        if (name.endsWith(".csv")) return new Sidecar(file, csv(file, text));
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return new Sidecar(file, jsonLines(file, text));
        throw new IOException(file + ": expected a .csv (header row with a 'path' column) or .jsonl metadata file (objects with a 'path' key)");
    }

    private static List<Row> csv(Path file, String text) throws IOException {
        List<List<String>> records = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        parseCsv(file, text, records, lines);
        if (records.isEmpty()) throw new IOException(file + ": empty (expected a header row with a 'path' column)");
        List<String> header = records.get(0);
        int pathCol = header.indexOf(PATH);
        if (pathCol < 0) throw new IOException(file + ":1: the header " + header + " has no 'path' column");
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).isEmpty()) throw new IOException(file + ":1: column " + (i + 1) + " has an empty name");
            if (header.indexOf(header.get(i)) != i) throw new IOException(file + ":1: column '" + header.get(i) + "' appears twice");
        }
        List<Row> rows = new ArrayList<>();
        for (int r = 1; r < records.size(); r++) {
            List<String> rec = records.get(r);
            int line = lines.get(r);
            if (rec.size() == 1 && rec.get(0).isEmpty()) continue;   // a blank line
            if (rec.size() != header.size()) {
                throw new IOException(file + ":" + line + ": " + rec.size() + " fields, but the header has " + header.size());
            }
            Map<String, String> fields = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) if (c != pathCol) fields.put(header.get(c), rec.get(c));
            rows.add(row(file, line, rec.get(pathCol), fields));
        }
        return rows;
    }

    /** RFC 4180: commas, double quotes around fields, "" for a quote inside, CRLF or LF. */
    private static void parseCsv(Path file, String text, List<List<String>> records, List<Integer> lines) throws IOException {
        List<String> rec = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int line = 1, recordLine = 1;
        boolean quoted = false, any = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            any = true;
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') line++;
                    field.append(c);
                }
            } else if (c == '"') {
                if (field.length() > 0) throw new IOException(file + ":" + line + ": a quote inside an unquoted field");
                quoted = true;
            } else if (c == ',') {
                rec.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                rec.add(field.toString());
                field.setLength(0);
                records.add(rec);
                lines.add(recordLine);
                rec = new ArrayList<>();
                line++;
                recordLine = line;
                any = false;
            } else {
                field.append(c);
            }
        }
        if (quoted) throw new IOException(file + ":" + recordLine + ": a quoted field is not closed");
        if (any) {
            rec.add(field.toString());
            records.add(rec);
            lines.add(recordLine);
        }
    }

    private static List<Row> jsonLines(Path file, String text) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty()) continue;
            JsonNode node;
            try {
                node = json.readTree(l);
            } catch (JsonProcessingException e) {
                throw new IOException(file + ":" + (i + 1) + ": not a JSON object (" + e.getOriginalMessage() + ")");
            }
            if (node == null || !node.isObject()) throw new IOException(file + ":" + (i + 1) + ": not a JSON object");
            JsonNode path = node.get(PATH);
            if (path == null || !path.isTextual()) throw new IOException(file + ":" + (i + 1) + ": no string 'path' key");
            Map<String, String> fields = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals(PATH)) continue;
                JsonNode v = e.getValue();
                if (v.isNull()) continue;
                fields.put(e.getKey(), v.isValueNode() ? v.asText() : v.toString());
            }
            rows.add(row(file, i + 1, path.asText(), fields));
        }
        return rows;
    }

    private static Row row(Path file, int line, String path, Map<String, String> fields) throws IOException {
        if (path.isBlank()) throw new IOException(file + ":" + line + ": empty 'path'");
        if (fields.containsKey(Catalogue.HASH_KEY)) {
            throw new IOException(file + ":" + line + ": '" + Catalogue.HASH_KEY + "' is reserved for the content hash of irt index --hash");
        }
        Long label = null;
        String l = fields.remove(LABEL);
        if (l != null && !l.isBlank()) {
            try {
                label = Long.parseLong(l.strip());
            } catch (NumberFormatException e) {
                throw new IOException(file + ":" + line + ": label '" + l + "' is not an integer");
            }
        }
        return new Row(line, path, label, fields);
    }
}
