package dev.irtj.vit.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** Finds image files under a folder, recursively, in a stable (sorted) order. */
public final class ImageFiles {
    /** Extensions treated as images; other files are not considered at all. */
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp");

    private ImageFiles() {
    }

    public static boolean isImageName(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1));
    }

    /** Every image file below {@code dir}, sorted by path. */
    public static List<Path> walk(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + " is not a directory");
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(ImageFiles::isImageName).sorted().toList();
        }
    }

    /** One path of a list file, with its 1-based line number. */
    public record Listed(int line, Path path) {
    }

    /**
     * The paths of a list file (UTF-8, one image path a line, '#' starts a comment, blank lines
     * skipped; relative paths resolved against the list's folder), in order. A list that is not
     * UTF-8 or holds an invalid path (a NUL byte) is one IOException line naming the list (and line).
     */
    public static List<Listed> readList(Path list) throws IOException {
        Path base = list.toAbsolutePath().getParent();
        List<String> lines;
        try {
            lines = Files.readAllLines(list, java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(list + ": not UTF-8 text (one image path a line)");
        }
        List<Listed> out = new java.util.ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String s = lines.get(i).strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            try {
                out.add(new Listed(i + 1, base.resolve(s)));
            } catch (java.nio.file.InvalidPathException e) {
                throw new IOException(list + ":" + (i + 1) + ": not a valid path (" + e.getReason() + ")");
            }
        }
        return out;
    }
}
