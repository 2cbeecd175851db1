package dev.irtj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DatasetTest {
    static Dataset synthetic(long... labels) {
        List<ImageSource> s = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) s.add(ImageSource.file(Path.of("img" + i + ".png")));
        return Dataset.of("synthetic", s, labels);
    }

    @Test
    void classBookkeepingKeepsLabels() {
        Dataset d = synthetic(30, 10, 30, 20, 10, 30);
        assertEquals(6, d.size());
        assertEquals(3, d.numClasses());
        assertArrayEquals(new long[] {10, 20, 30}, d.classes());
        assertEquals(2, d.classIndex(30));
        assertEquals(-1, d.classIndex(99));
        assertArrayEquals(new int[] {0, 2, 5}, d.indicesOf(30));
        assertArrayEquals(new int[] {1, 4}, d.indicesOfClass(0));
        assertEquals(1, d.classSize(1));
        assertArrayEquals(new long[] {2, 0, 2, 1, 0, 2}, d.withDenseLabels().labels());
        assertArrayEquals(new long[] {30, 10, 30, 10, 30}, d.withMinClassSize(2).labels());
        assertArrayEquals(new long[] {20, 30}, d.subset("s", new int[] {3, 0}).labels());
        assertArrayEquals(new long[] {10, 20, 10}, d.filterLabels(l -> l < 25).labels());
        assertEquals("img3.png", d.source(3).describe());
    }
}
