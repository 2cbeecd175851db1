package dev.irtj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * A report written twice from the same calls: Markdown (report.md, images linked beside it) and
 * one self-contained HTML page (report.html, images embedded as data URIs).
 */
final class Report {
    private final StringBuilder md = new StringBuilder();
    private final StringBuilder html = new StringBuilder();
    private final Path dir;

    Report(Path dir, String title) {
        this.dir = dir;
        md.append("# ").append(title).append("\n\n");
        html.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").append(escape(title)).append("</title>\n")
                .append("<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.45}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
                        + "img{max-width:100%}</style></head><body>\n")
                .append("<h1>").append(escape(title)).append("</h1>\n");
    }

    Report heading(String text) {
        md.append("## ").append(text).append("\n\n");
        html.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    Report paragraph(String text) {
        md.append(text).append("\n\n");
        html.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    Report bullets(List<String> items) {
        html.append("<ul>\n");
        for (String item : items) {
            md.append("- ").append(item).append('\n');
            html.append("<li>").append(escape(item)).append("</li>\n");
        }
        md.append('\n');
        html.append("</ul>\n");
        return this;
    }

    Report table(List<String> header, List<List<String>> rows) {
        md.append("| ").append(String.join(" | ", header)).append(" |\n|");
        html.append("<table><tr>");
        for (String h : header) {
            md.append("---|");
            html.append("<th>").append(escape(h)).append("</th>");
        }
        md.append('\n');
        html.append("</tr>\n");
        for (List<String> r : rows) {
            md.append("| ").append(String.join(" | ", r)).append(" |\n");
            html.append("<tr>");
            for (String c : r) html.append("<td>").append(escape(c)).append("</td>");
            html.append("</tr>\n");
        }
        md.append('\n');
        html.append("</table>\n");
        return this;
    }

    /** A PNG already written in the report's folder. */
    Report image(String fileName, String alt) throws IOException {
        md.append("![").append(alt).append("](").append(fileName).append(")\n\n");
        String data = Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve(fileName)));
        html.append("<p><img alt=\"").append(escape(alt)).append("\" src=\"data:image/png;base64,").append(data).append("\"></p>\n");
        return this;
    }

    String markdown() {
        return md.toString();
    }

    String html() {
        return html + "</body></html>\n";
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
