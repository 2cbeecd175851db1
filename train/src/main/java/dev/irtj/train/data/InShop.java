package dev.irtj.train.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DeepFashion In-Shop Clothes Retrieval (Liu et al. 2016): {@code root/Eval/list_eval_partition.txt}
 * holds the number of images on line 1, the header {@code image_name item_id evaluation_status}
 * on line 2, then one line per image: a path relative to the root (usually under {@code img/}),
 * an item id {@code id_00000001}, and {@code train}, {@code query} or {@code gallery}.
 * The label is the item id's number ({@code id_00000001} → 1); Recall@K is computed for the
 * query split against the gallery split.
 */
public final class InShop {
    public enum Split {
        TRAIN, QUERY, GALLERY;

        String status() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final String HEADER = "image_name item_id evaluation_status";

    private InShop() {
    }

    /** Path of the partition file below {@code root}. */
    public static Path partitionFile(Path root) {
        return root.resolve("Eval").resolve("list_eval_partition.txt");
    }

    public static Dataset read(Path root, Split split) throws IOException {
        Path file = partitionFile(root);
        List<TextIndex.Line> lines = TextIndex.read(file, "In-Shop partition file Eval/list_eval_partition.txt");
        if (lines.size() < 2) {
            throw new DatasetFormatException(file, "is too short (expected an image count, the header \"" + HEADER
                    + "\", then one line per image)");
        }
        TextIndex.Line countLine = lines.get(0);
        countLine.expectFields(1, "the number of images");
        long count = countLine.parseLong(0, "image count");
        TextIndex.Line header = lines.get(1);
        if (!String.join(" ", header.fields()).equals(HEADER)) throw header.error("expected the header \"" + HEADER + "\"");
        if (lines.size() - 2 != count) {
            throw countLine.error("says " + count + " images but the file lists " + (lines.size() - 2));
        }
        List<Dataset.Sample> samples = new ArrayList<>();
        for (TextIndex.Line line : lines.subList(2, lines.size())) {
            line.expectFields(3, HEADER);
            String[] f = line.fields();
            long item = parseItem(line, f[1]);
            String status = f[2];
            if (!status.equals("train") && !status.equals("query") && !status.equals("gallery")) {
                throw line.error("evaluation_status \"" + status + "\" is not train, query or gallery");
            }
            Path image = line.resolve(root, 0, "image_name"); // checked on every line, not only the split's
            if (status.equals(split.status())) samples.add(new Dataset.Sample(ImageSource.file(image), item));
        }
        if (samples.isEmpty()) throw new DatasetFormatException(file, "lists no " + split.status() + " image");
        return new Dataset("inshop-" + split.status(), samples);
    }

    private static long parseItem(TextIndex.Line line, String s) throws DatasetFormatException {
        if (s.startsWith("id_") && s.length() > 3) {
            String digits = s.substring(3);
            if (digits.chars().allMatch(ch -> ch >= '0' && ch <= '9') && digits.length() <= 18) return Long.parseLong(digits);
        }
        throw line.error("item_id \"" + s + "\" is not of the form id_<digits>");
    }
}
