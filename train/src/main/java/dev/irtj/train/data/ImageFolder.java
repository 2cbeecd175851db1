package dev.irtj.train.data;

import dev.irtj.vit.image.ImageFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A folder with one sub-folder per class: {@code root/<class>/.../<image>}.
 *
 * <p>Class folders are the immediate sub-folders of the root whose names do not start with a
 * dot, sorted by name ({@link String#compareTo}, so by UTF-16 code unit); the label of a class
 * is its rank in that order, 0, 1, 2, ... Images are found below each class folder recursively
 * by {@link ImageFiles#walk} (by file extension; sorted by path). A class folder without
 * images keeps its rank but contributes no samples. Files directly in the root are ignored.
 */
public final class ImageFolder {
    private ImageFolder() {
    }

    /** The class folder names; position = label. */
    public static List<String> classNames(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new NoSuchFileException(root.toString(), null, "image folder not found");
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.startsWith(".") && Files.isDirectory(p)) names.add(n);
            }
        }
        names.sort(null);
        return names;
    }

    /** Every image below the class folders of {@code root}, class by class; named after the root. */
    public static Dataset read(Path root) throws IOException {
        List<String> names = classNames(root);
        if (names.isEmpty()) {
            throw new DatasetFormatException(root, "has no class sub-folders (expected root/<class>/<image>)");
        }
        List<Dataset.Sample> samples = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            for (Path p : ImageFiles.walk(root.resolve(names.get(c)))) {
                samples.add(new Dataset.Sample(ImageSource.file(p), c));
            }
        }
        if (samples.isEmpty()) {
            throw new DatasetFormatException(root, "has class sub-folders but no image files in them (extensions "
                    + ImageFiles.EXTENSIONS + ")");
        }
        Path fn = root.toAbsolutePath().normalize().getFileName();
        return new Dataset(fn == null ? root.toString() : fn.toString(), samples);
    }
}
