package dev.irtj.train.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Stanford Online Products (Song et al. 2016): {@code root/Ebay_train.txt} and
 * {@code root/Ebay_test.txt}, each a header line {@code image_id class_id super_class_id path}
 * followed by one line per image with the path relative to the root
 * (e.g. {@code bicycle_final/111085122871_0.JPG}). The label is {@code class_id}, unchanged
 * (1..11318 for train, 11319..22634 for test).
 *
 * <p>Image files are not opened here; a missing or unreadable one is reported by the loader.
 */
public final class StanfordOnlineProducts {
    public enum Split {
        TRAIN("Ebay_train.txt"), TEST("Ebay_test.txt");

        private final String file;

        Split(String file) {
            this.file = file;
        }

        public String fileName() {
            return file;
        }
    }

    private static final String HEADER = "image_id class_id super_class_id path";

    private StanfordOnlineProducts() {
    }

    public static Dataset read(Path root, Split split) throws IOException {
        Path index = root.resolve(split.fileName());
        List<TextIndex.Line> lines = TextIndex.read(index, "Stanford Online Products index " + split.fileName());
        if (lines.isEmpty()) throw new DatasetFormatException(index, "is empty (expected the header \"" + HEADER + "\")");
        TextIndex.Line header = lines.get(0);
        if (!String.join(" ", header.fields()).equals(HEADER)) {
            throw header.error("expected the header \"" + HEADER + "\"");
        }
        List<Dataset.Sample> samples = new ArrayList<>(lines.size() - 1);
        for (TextIndex.Line line : lines.subList(1, lines.size())) {
            line.expectFields(4, HEADER);
            line.parseLong(0, "image_id");
            long classId = line.parseLong(1, "class_id");
            line.parseLong(2, "super_class_id");
            samples.add(new Dataset.Sample(ImageSource.file(line.resolve(root, 3, "path")), classId));
        }
        if (samples.isEmpty()) throw new DatasetFormatException(index, "lists no images");
        return new Dataset("sop-" + split.name().toLowerCase(java.util.Locale.ROOT), samples);
    }
}
