package dev.irtj.cli;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * train → index → serve with a real model: {@code irt serve} reopens the describer the index
 * recorded, answers an upload with the image itself first, and stops cleanly.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ServeEndToEndTest {
    @TempDir
    Path dir;

    @Test
    void serveTheIndexOfARunJustTrained() throws Exception {
        Path data = CliTest.imageFolder(dir.resolve("data"), 3, 4);
        Path run = dir.resolve("run");
        CliTest.Result t = irt("train", "--data", data.toString(), "--format", "folder", "--img-size", "16",
                "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2", "--iters", "4", "--batch", "6", "--lr", "1e-3",
                "--out", run.toString(), "--checkpoint-every", "4", "--log-every", "2");
        assertEquals(0, t.code(), t.err());
        Path idx = dir.resolve("index");
        CliTest.Result i = irt("index", "--index", idx.toString(), "--images", data.toString(), "--checkpoint", run.toString());
        assertEquals(0, i.code(), i.err());

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Irt.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        AtomicInteger code = new AtomicInteger(-1);
        Thread server = new Thread(() -> code.set(cl.execute("serve", "--index", idx.toString(), "--port", "0")), "irt-serve-test");
        server.start();
        Pattern listening = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+/)");
        String url = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (url == null && server.isAlive() && System.nanoTime() < deadline) {
            Matcher m = listening.matcher(out.toString());
            if (m.find()) url = m.group(1);
            else Thread.sleep(50);
        }
        assertTrue(url != null, "no URL printed; out: " + out + " err: " + err);
        assertTrue(out.toString().startsWith("irt serve: 12 images, ViT 16px"), out.toString());

        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        Path query = data.resolve("class1").resolve("img2.png");
        String boundary = "b" + System.nanoTime();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.png\"\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] file = Files.readAllBytes(query);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + file.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(file, 0, body, head.length, file.length);
        System.arraycopy(tail, 0, body, head.length + file.length, tail.length);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "search?k=5"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode hits = json.readTree(r.body()).get("hits");
        assertEquals(5, hits.size());
        assertEquals("class1/img2.png", hits.get(0).get("id").asText(), "the upload goes through the pipeline the index was built with");
        assertEquals(1.0, hits.get(0).get("score").asDouble(), 1e-4);
        assertEquals(1, hits.get(0).get("label").asInt());
        HttpResponse<byte[]> thumb = http.send(HttpRequest.newBuilder(URI.create(url.replaceAll("/$", "") + hits.get(0).get("thumbnail").asText())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, thumb.statusCode());
        JsonNode stats = json.readTree(http.send(HttpRequest.newBuilder(URI.create(url + "stats")).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertEquals(12, stats.get("count").asLong());
        assertEquals(1, stats.get("queries").asLong());

        server.interrupt();
        server.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(server.isAlive());
        assertEquals(0, code.get(), err.toString());
        assertTrue(err.toString().contains("irt serve: stopped"), err.toString());
        HttpRequest after = HttpRequest.newBuilder(URI.create(url + "health")).build();
        assertThrows(java.io.IOException.class, () -> http.send(after, HttpResponse.BodyHandlers.discarding()), "no longer listening");
    }
}
