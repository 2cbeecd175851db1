package dev.irtj.train.data;

import dev.irtj.tensor.Fuzzing;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of valid Stanford Online Products, CUB-200-2011 and In-Shop index files
 * (issue 11, item 6): each reader gives a dataset of labelled files, or its documented {@link
 * DatasetFormatException} in one line naming the index file; never another exception (a path
 * with a NUL byte, a number too large, text that is not UTF-8), a hang or a large allocation.
 */
class TextIndexFuzzTest {
    private static final String SOP = """
            image_id class_id super_class_id path
            1 1 1 bicycle_final/111085122871_0.JPG
            2 1 1 bicycle_final/111085122871_1.JPG
            3 2 1 bicycle_final/111265328556_0.JPG
            """;
    private static final String CUB_IMAGES = """
            1 001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg
            2 001.Black_footed_Albatross/Black_Footed_Albatross_0009_34.jpg
            3 101.White_Pelican/White_Pelican_0025_97604.jpg
            """;
    private static final String CUB_LABELS = "1 1\n2 1\n3 101\n";
    private static final String IN_SHOP = """
            3
            image_name item_id evaluation_status
            img/WOMEN/Dresses/id_00000002/02_1_front.jpg  id_00000002  train
            img/WOMEN/Dresses/id_00000002/02_2_side.jpg   id_00000002  query
            img/MEN/Denim/id_00000080/01_1_front.jpg      id_00000080  gallery
            """;

    @Property(tries = 450, seed = "20240")
    void mutatedIndexFilesReadOrFailWithTheDocumentedError(@ForAll @IntRange(min = 0, max = 2) int format, @ForAll long seed)
            throws Exception {
        Random r = new Random(seed);
        Path root = Files.createTempDirectory("index-fuzz");
        try {
            Path mutated;
            switch (format) {
                case 0 -> {
                    mutated = root.resolve("Ebay_train.txt");
                    Files.write(mutated, Fuzzing.mutateText(SOP, r));
                }
                case 1 -> {
                    boolean images = r.nextBoolean();
                    mutated = root.resolve(images ? "images.txt" : "image_class_labels.txt");
                    Files.write(root.resolve("images.txt"), images ? Fuzzing.mutateText(CUB_IMAGES, r) : CUB_IMAGES.getBytes());
                    Files.write(root.resolve("image_class_labels.txt"), images ? CUB_LABELS.getBytes() : Fuzzing.mutateText(CUB_LABELS, r));
                }
                default -> {
                    mutated = InShop.partitionFile(root);
                    Files.createDirectories(mutated.getParent());
                    Files.write(mutated, Fuzzing.mutateText(IN_SHOP, r));
                }
            }
            final Path file = mutated;
            Fuzzing.bounded(Duration.ofSeconds(5), 16L << 20, () -> {
                try {
                    Dataset d = switch (format) {
                        case 0 -> StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TRAIN);
                        case 1 -> Cub200.read(root, Cub200.Split.TRAIN);
                        default -> InShop.read(root, r.nextBoolean() ? InShop.Split.QUERY : InShop.Split.GALLERY);
                    };
                    assertTrue(d.size() > 0);
                    for (int i = 0; i < d.size(); i++) assertTrue(d.source(i) instanceof ImageSource.File, d.source(i).describe());
                } catch (DatasetFormatException e) {
                    Fuzzing.assertOneLineNaming(e.getMessage(), e.file().toString());
                    assertTrue(e.file().getParent().startsWith(root), e.getMessage());
                    if (format != 1) assertTrue(e.file().equals(file), "names the mutated file: " + e.getMessage());
                }
            });
        } finally {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    /** What the fuzz found: a path holding a NUL byte was an InvalidPathException; now the line's error in each reader. */
    @Test
    void aPathWithANulByteIsTheLinesError(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("Ebay_train.txt"), SOP.replace("111085122871_1.JPG", "a\u0000b.JPG"));
        DatasetFormatException sop = assertThrows(DatasetFormatException.class,
                () -> StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TRAIN));
        assertEquals(3, sop.line());
        assertTrue(sop.getMessage().contains("path \"bicycle_final/a\\0b.JPG\" is not a valid file name"), sop.getMessage());

        Files.writeString(root.resolve("images.txt"), CUB_IMAGES.replace("0009_34", "\u0000"));
        Files.writeString(root.resolve("image_class_labels.txt"), CUB_LABELS);
        assertEquals(2, assertThrows(DatasetFormatException.class, () -> Cub200.read(root, Cub200.Split.TRAIN)).line());

        Files.createDirectories(InShop.partitionFile(root).getParent());
        Files.writeString(InShop.partitionFile(root), IN_SHOP.replace("02_1_front", "\u0000"));
        DatasetFormatException inShop = assertThrows(DatasetFormatException.class, () -> InShop.read(root, InShop.Split.GALLERY));
        assertEquals(3, inShop.line());
        assertTrue(inShop.getMessage().startsWith(InShop.partitionFile(root) + ":3: image_name"), inShop.getMessage());
    }
}
