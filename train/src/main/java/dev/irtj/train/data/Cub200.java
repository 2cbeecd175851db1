package dev.irtj.train.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CUB-200-2011 (Wah et al. 2011) with the retrieval split of the metric-learning literature:
 * classes 1–100 train, 101–200 test. {@code root} is the {@code CUB_200_2011} folder holding
 * {@code images.txt} ({@code <image_id> <path under images/>}) and
 * {@code image_class_labels.txt} ({@code <image_id> <class_id>}); image files are
 * {@code root/images/<path>}. The label is the class number 1..200, unchanged.
 * ({@code train_test_split.txt}, the classification split, is not used.)
 */
public final class Cub200 {
    public enum Split {
        /** Classes 1..100. */
        TRAIN(1, 100),
        /** Classes 101..200. */
        TEST(101, 200);

        private final int first, last;

        Split(int first, int last) {
            this.first = first;
            this.last = last;
        }

        public boolean contains(long classId) {
            return classId >= first && classId <= last;
        }
    }

    private Cub200() {
    }

    public static Dataset read(Path root, Split split) throws IOException {
        Path labelsFile = root.resolve("image_class_labels.txt");
        Map<Long, Long> classOf = new HashMap<>();
        for (TextIndex.Line line : TextIndex.read(labelsFile, "CUB-200-2011 class list image_class_labels.txt")) {
            line.expectFields(2, "image_id class_id");
            long id = line.parseLong(0, "image_id");
            long cls = line.parseLong(1, "class_id");
            if (cls < 1 || cls > 200) throw line.error("class_id " + cls + " is outside 1..200");
            if (classOf.put(id, cls) != null) throw line.error("image_id " + id + " appears twice");
        }
        Path imagesFile = root.resolve("images.txt");
        Path imageDir = root.resolve("images");
        List<Dataset.Sample> samples = new ArrayList<>();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (TextIndex.Line line : TextIndex.read(imagesFile, "CUB-200-2011 image list images.txt")) {
            line.expectFields(2, "image_id path");
            long id = line.parseLong(0, "image_id");
            if (!seen.add(id)) throw line.error("image_id " + id + " appears twice");
            Long cls = classOf.get(id);
            if (cls == null) throw line.error("image_id " + id + " has no class in " + labelsFile.getFileName());
            if (split.contains(cls)) samples.add(new Dataset.Sample(ImageSource.file(line.resolve(imageDir, 1, "path")), cls));
        }
        if (seen.size() != classOf.size()) {
            throw new DatasetFormatException(labelsFile, "labels " + classOf.size() + " images but "
                    + imagesFile.getFileName() + " lists " + seen.size());
        }
        if (samples.isEmpty()) throw new DatasetFormatException(imagesFile, "lists no image of the " + split + " classes");
        return new Dataset("cub-" + split.name().toLowerCase(Locale.ROOT), samples);
    }
}
