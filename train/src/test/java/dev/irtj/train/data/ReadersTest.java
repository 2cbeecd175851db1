package dev.irtj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every reader on a small copy of its real file layout. */
class ReadersTest {
    @TempDir
    Path root;

    private static Path path(Dataset d, int i) {
        return ((ImageSource.File) d.source(i)).path();
    }

    private static void assertLineError(DatasetFormatException e, String fileName, int line, String fragment) {
        assertTrue(e.getMessage().contains(fileName), e.getMessage());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains(":" + line + ":"), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    // ---- image folder ----------------------------------------------------------------------------

    @Test
    void imageFolderLabelsBySortedFolderName() throws IOException {
        TestImages.writeRgb(root.resolve("zebra/b.png"), 10, 8, 1);
        TestImages.writeRgb(root.resolve("zebra/a.jpg"), 10, 8, 2);
        TestImages.writeRgb(root.resolve("apple/x.png"), 10, 8, 3);
        TestImages.writeRgb(root.resolve("mango/sub/deep.png"), 10, 8, 4);
        TestImages.writeText(root.resolve("mango/notes.txt"), "not an image");
        TestImages.writeRgb(root.resolve("loose.png"), 10, 8, 5); // ignored: not in a class folder
        Files.createDirectories(root.resolve(".hidden"));
        TestImages.writeRgb(root.resolve(".hidden/h.png"), 10, 8, 6);

        assertEquals(List.of("apple", "mango", "zebra"), ImageFolder.classNames(root));
        Dataset d = ImageFolder.read(root);
        assertEquals(4, d.size());
        assertEquals(3, d.numClasses());
        assertArrayEquals(new long[] {0, 1, 2, 2}, d.labels());
        assertEquals(root.resolve("apple/x.png"), path(d, 0));
        assertEquals(root.resolve("mango/sub/deep.png"), path(d, 1));
        assertEquals(root.resolve("zebra/a.jpg"), path(d, 2));
        assertEquals(root.resolve("zebra/b.png"), path(d, 3));
        assertArrayEquals(new int[] {2, 3}, d.indicesOf(2));
    }

    @Test
    void imageFolderWithoutClassesOrImagesIsRejected() throws IOException {
        TestImages.writeRgb(root.resolve("loose.png"), 4, 4, 1);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> ImageFolder.read(root));
        assertTrue(e.getMessage().contains("no class sub-folders"), e.getMessage());
        Files.createDirectories(root.resolve("empty"));
        e = assertThrows(DatasetFormatException.class, () -> ImageFolder.read(root));
        assertTrue(e.getMessage().contains("no image files"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> ImageFolder.read(root.resolve("missing")));
    }

    // ---- Stanford Online Products -------------------------------------------------------------

    private void sopLayout() throws IOException {
        TestImages.writeText(root.resolve("Ebay_train.txt"),
                "image_id class_id super_class_id path",
                "1 1 1 bicycle_final/111085122871_0.JPG",
                "2 1 1 bicycle_final/111085122871_1.JPG",
                "3 2 1 bicycle_final/111265328556_0.JPG",
                "4 2 1 bicycle_final/111265328556_1.JPG");
        TestImages.writeText(root.resolve("Ebay_test.txt"),
                "image_id class_id super_class_id path",
                "1 11319 1 bicycle_final/251952414262_0.JPG",
                "2 11319 1 bicycle_final/251952414262_1.JPG",
                "3 11320 2 cabinet_final/261203541224_0.JPG",
                "");
        for (String f : List.of("111085122871_0", "111085122871_1", "111265328556_0", "111265328556_1",
                "251952414262_0", "251952414262_1")) {
            TestImages.writeRgb(root.resolve("bicycle_final/" + f + ".JPG"), 12, 10, f.hashCode());
        }
        TestImages.writeRgb(root.resolve("cabinet_final/261203541224_0.JPG"), 12, 10, 9);
    }

    @Test
    void stanfordOnlineProductsUsesClassId() throws IOException {
        sopLayout();
        Dataset train = StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TRAIN);
        assertEquals(4, train.size());
        assertArrayEquals(new long[] {1, 1, 2, 2}, train.labels());
        assertEquals(root.resolve("bicycle_final/111085122871_0.JPG"), path(train, 0));
        assertTrue(Files.exists(path(train, 3)));
        Dataset test = StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TEST);
        assertArrayEquals(new long[] {11319, 11319, 11320}, test.labels());
        assertEquals(root.resolve("cabinet_final/261203541224_0.JPG"), path(test, 2));
        assertEquals("sop-test", test.name());
    }

    @Test
    void stanfordOnlineProductsMalformedLines() throws IOException {
        TestImages.writeText(root.resolve("Ebay_train.txt"),
                "image_id class_id super_class_id path", "1 1 1 a/b.JPG", "2 1 a/c.JPG");
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TRAIN));
        assertLineError(e, "Ebay_train.txt", 3, "expected 4 fields");

        TestImages.writeText(root.resolve("Ebay_train.txt"),
                "image_id class_id super_class_id path", "1 one 1 a/b.JPG");
        e = assertThrows(DatasetFormatException.class,
                () -> StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TRAIN));
        assertLineError(e, "Ebay_train.txt", 2, "class_id \"one\" is not an integer");

        TestImages.writeText(root.resolve("Ebay_train.txt"), "1 1 1 a/b.JPG");
        e = assertThrows(DatasetFormatException.class,
                () -> StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TRAIN));
        assertLineError(e, "Ebay_train.txt", 1, "header");

        NoSuchFileException missing = assertThrows(NoSuchFileException.class,
                () -> StanfordOnlineProducts.read(root, StanfordOnlineProducts.Split.TEST));
        assertTrue(missing.getMessage().contains("Ebay_test.txt"), missing.getMessage());
    }

    // ---- CUB-200-2011 -------------------------------------------------------------------------

    private void cubLayout() throws IOException {
        TestImages.writeText(root.resolve("images.txt"),
                "1 001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg",
                "2 001.Black_footed_Albatross/Black_Footed_Albatross_0009_34.jpg",
                "3 100.Brown_Pelican/Brown_Pelican_0122_94.jpg",
                "4 101.White_Pelican/White_Pelican_0025_97604.jpg",
                "5 200.Common_Yellowthroat/Common_Yellowthroat_0055_190967.jpg");
        TestImages.writeText(root.resolve("image_class_labels.txt"), "1 1", "2 1", "3 100", "4 101", "5 200");
        for (String line : Files.readAllLines(root.resolve("images.txt"))) {
            TestImages.writeRgb(root.resolve("images").resolve(line.split(" ")[1]), 14, 11, line.hashCode());
        }
    }

    @Test
    void cubSplitsByClassNumber() throws IOException {
        cubLayout();
        Dataset train = Cub200.read(root, Cub200.Split.TRAIN);
        assertArrayEquals(new long[] {1, 1, 100}, train.labels());
        assertEquals(root.resolve("images/001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg"), path(train, 0));
        assertTrue(Files.exists(path(train, 2)));
        Dataset test = Cub200.read(root, Cub200.Split.TEST);
        assertArrayEquals(new long[] {101, 200}, test.labels());
        assertEquals(root.resolve("images/200.Common_Yellowthroat/Common_Yellowthroat_0055_190967.jpg"), path(test, 1));
    }

    @Test
    void cubMalformedFiles() throws IOException {
        cubLayout();
        TestImages.writeText(root.resolve("image_class_labels.txt"), "1 1", "2 1", "3 x100", "4 101", "5 200");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Cub200.read(root, Cub200.Split.TRAIN));
        assertLineError(e, "image_class_labels.txt", 3, "class_id \"x100\"");

        TestImages.writeText(root.resolve("image_class_labels.txt"), "1 1", "2 1", "3 100", "4 101");
        e = assertThrows(DatasetFormatException.class, () -> Cub200.read(root, Cub200.Split.TRAIN));
        assertLineError(e, "images.txt", 5, "image_id 5 has no class");

        TestImages.writeText(root.resolve("image_class_labels.txt"), "1 1", "2 1", "3 100", "4 101", "5 201");
        e = assertThrows(DatasetFormatException.class, () -> Cub200.read(root, Cub200.Split.TRAIN));
        assertLineError(e, "image_class_labels.txt", 5, "outside 1..200");

        TestImages.writeText(root.resolve("image_class_labels.txt"), "1 1", "2 1", "3 100", "4 101", "5 200");
        TestImages.writeText(root.resolve("images.txt"), "1 a.jpg", "2 b.jpg extra", "3 c.jpg", "4 d.jpg", "5 e.jpg");
        e = assertThrows(DatasetFormatException.class, () -> Cub200.read(root, Cub200.Split.TRAIN));
        assertLineError(e, "images.txt", 2, "expected 2 fields");
    }

    // ---- In-Shop ------------------------------------------------------------------------------

    private void inShopLayout(String... entries) throws IOException {
        String[] lines = new String[entries.length + 2];
        lines[0] = String.valueOf(entries.length);
        lines[1] = "image_name item_id evaluation_status";
        System.arraycopy(entries, 0, lines, 2, entries.length);
        TestImages.writeText(root.resolve("Eval/list_eval_partition.txt"), lines);
    }

    @Test
    void inShopThreeSplits() throws IOException {
        inShopLayout(
                "img/WOMEN/Dresses/id_00000002/02_1_front.jpg  id_00000002  train",
                "img/WOMEN/Dresses/id_00000002/02_2_side.jpg   id_00000002  train",
                "img/WOMEN/Skirts/id_00000008/01_1_front.jpg   id_00000008  train",
                "img/MEN/Denim/id_00000080/01_1_front.jpg      id_00000080  query",
                "img/MEN/Denim/id_00000080/01_2_side.jpg       id_00000080  gallery",
                "img/MEN/Denim/id_00000081/01_1_front.jpg      id_00000081  gallery");
        for (String l : Files.readAllLines(InShop.partitionFile(root)).subList(2, 8)) {
            TestImages.writeRgb(root.resolve(l.split("\\s+")[0]), 9, 13, l.hashCode());
        }
        Dataset train = InShop.read(root, InShop.Split.TRAIN);
        assertArrayEquals(new long[] {2, 2, 8}, train.labels());
        assertEquals(root.resolve("img/WOMEN/Dresses/id_00000002/02_2_side.jpg"), path(train, 1));
        Dataset query = InShop.read(root, InShop.Split.QUERY);
        assertArrayEquals(new long[] {80}, query.labels());
        Dataset gallery = InShop.read(root, InShop.Split.GALLERY);
        assertArrayEquals(new long[] {80, 81}, gallery.labels());
        assertTrue(Files.exists(path(gallery, 1)));
        assertEquals("inshop-gallery", gallery.name());
    }

    @Test
    void inShopMalformedLines() throws IOException {
        inShopLayout("img/a.jpg id_00000001 train", "img/b.jpg item7 train");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> InShop.read(root, InShop.Split.TRAIN));
        assertLineError(e, "list_eval_partition.txt", 4, "item_id \"item7\"");

        inShopLayout("img/a.jpg id_00000001 train", "img/b.jpg id_00000002 validation");
        e = assertThrows(DatasetFormatException.class, () -> InShop.read(root, InShop.Split.TRAIN));
        assertLineError(e, "list_eval_partition.txt", 4, "not train, query or gallery");

        TestImages.writeText(InShop.partitionFile(root), "3", "image_name item_id evaluation_status",
                "img/a.jpg id_00000001 train");
        e = assertThrows(DatasetFormatException.class, () -> InShop.read(root, InShop.Split.TRAIN));
        assertLineError(e, "list_eval_partition.txt", 1, "says 3 images but the file lists 1");

        TestImages.writeText(InShop.partitionFile(root), "1", "image_name item evaluation_status",
                "img/a.jpg id_00000001 train");
        e = assertThrows(DatasetFormatException.class, () -> InShop.read(root, InShop.Split.TRAIN));
        assertLineError(e, "list_eval_partition.txt", 2, "header");
    }
}
