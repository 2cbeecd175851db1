package dev.irtj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class MPerClassSamplerTest {

    /** A dataset, m and k = classes per batch. */
    record Setup(long[] labels, int m, int k) {
        Dataset dataset() {
            return DatasetTest.synthetic(labels);
        }

        @Override
        public String toString() {
            return "Setup[labels=" + Arrays.toString(labels) + ", m=" + m + ", k=" + k + "]";
        }
    }

    @Provide
    Arbitrary<Setup> setups() {
        Arbitrary<int[]> classSizes = Arbitraries.integers().between(1, 9).array(int[].class).ofMinSize(1).ofMaxSize(12);
        return Combinators.combine(classSizes, Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 12),
                Arbitraries.longs()).as((sizes, m, k, shuffleSeed) -> {
                    List<Long> labels = new ArrayList<>();
                    for (int c = 0; c < sizes.length; c++) for (int i = 0; i < sizes[c]; i++) labels.add(100L + 7 * c);
                    java.util.Collections.shuffle(labels, new java.util.Random(shuffleSeed));
                    return new Setup(labels.stream().mapToLong(Long::longValue).toArray(), m, Math.min(k, sizes.length));
                });
    }

    static void assertMPerClass(Dataset d, int[] batch, int m, int k) {
        assertEquals(m * k, batch.length);
        Set<Long> classes = new HashSet<>();
        for (int j = 0; j < k; j++) {
            long label = d.label(batch[j * m]);
            assertTrue(classes.add(label), "class " + label + " appears in two slots of " + Arrays.toString(batch));
            for (int i = 0; i < m; i++) assertEquals(label, d.label(batch[j * m + i]), "slot " + j + " of " + Arrays.toString(batch));
        }
    }

    @Property(tries = 60)
    void everyBatchHasMImagesOfEachOfKDistinctClasses(@ForAll("setups") Setup s, @ForAll long seed) {
        Dataset d = s.dataset();
        MPerClassSampler sampler = new MPerClassSampler(d, s.m() * s.k(), s.m(), seed);
        for (int b = 0; b < 40; b++) {
            long epoch = sampler.epoch();
            int[] batch = sampler.next();
            assertMPerClass(d, batch, s.m(), s.k());
            assertTrue(sampler.epoch() >= epoch);
        }
    }

    @Property(tries = 40)
    void withinAnEpochAGroupNeverRepeatsAnImageOfABigEnoughClass(@ForAll("setups") Setup s, @ForAll long seed) {
        Dataset d = s.dataset();
        MPerClassSampler sampler = new MPerClassSampler(d, s.m() * s.k(), s.m(), seed);
        int n = sampler.batchesInEpoch();
        Map<Integer, Integer> uses = new HashMap<>();
        for (int b = 0; b < n; b++) {
            int[] batch = sampler.next();
            for (int j = 0; j < s.k(); j++) {
                int[] group = Arrays.copyOfRange(batch, j * s.m(), (j + 1) * s.m());
                int classSize = d.indicesOf(d.label(group[0])).length;
                if (classSize >= s.m()) assertEquals(s.m(), Arrays.stream(group).distinct().count(), Arrays.toString(group));
                for (int i : group) uses.merge(i, 1, Integer::sum);
            }
        }
        assertEquals(0, sampler.epoch());
        sampler.next();
        assertEquals(1, sampler.epoch());
        // An image is used once per epoch, plus at most once as a filler of its class's last group
        // (classes of at least m images); small classes repeat images by design.
        for (var e : uses.entrySet()) {
            int classSize = d.indicesOf(d.label(e.getKey())).length;
            if (classSize >= s.m()) assertTrue(e.getValue() <= 2, "image " + e.getKey() + " used " + e.getValue() + " times");
        }
    }

    @Test
    void aBalancedDatasetIsCoveredExactlyOncePerEpoch() {
        long[] labels = new long[40]; // 20 classes of 2 images
        for (int i = 0; i < 40; i++) labels[i] = i / 2;
        Dataset d = DatasetTest.synthetic(labels);
        MPerClassSampler s = new MPerClassSampler(d, 8, 2, 7);
        assertEquals(5, s.batchesInEpoch());
        List<List<Integer>> epochs = new ArrayList<>();
        for (int e = 0; e < 3; e++) {
            List<Integer> all = new ArrayList<>();
            for (int b = 0; b < 5; b++) for (int i : s.next()) all.add(i);
            List<Integer> sorted = new ArrayList<>(all);
            sorted.sort(null);
            for (int i = 0; i < 40; i++) assertEquals(i, sorted.get(i));
            epochs.add(all);
        }
        assertNotEquals(epochs.get(0), epochs.get(1));
        assertNotEquals(epochs.get(1), epochs.get(2));
    }

    @Test
    void smallClassesAreSampledWithReplacement() {
        Dataset d = DatasetTest.synthetic(1, 2, 2, 3, 3, 3);
        MPerClassSampler s = new MPerClassSampler(d, 12, 4, 1);
        for (int b = 0; b < 10; b++) {
            int[] batch = s.next();
            assertMPerClass(d, batch, 4, 3);
            for (int i : batch) assertTrue(i >= 0 && i < 6);
        }
        // The one-image class fills its group with copies.
        int[] batch = new MPerClassSampler(d, 4, 4, 5).next();
        assertEquals(4, batch.length);
    }

    @Property(tries = 30)
    void sameSeedSameSequenceAndRestoreContinuesExactly(@ForAll("setups") Setup s, @ForAll long seed) {
        Dataset d = s.dataset();
        int bs = s.m() * s.k();
        MPerClassSampler a = new MPerClassSampler(d, bs, s.m(), seed);
        MPerClassSampler b = new MPerClassSampler(d, bs, s.m(), seed);
        List<int[]> first = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            int[] x = a.next();
            assertArrayEquals(x, b.next());
            first.add(x);
        }
        long[] saved = a.state().toLongs();
        List<int[]> after = new ArrayList<>();
        for (int i = 0; i < 23; i++) after.add(a.next());

        MPerClassSampler resumed = new MPerClassSampler(d, bs, s.m(), seed);
        resumed.restore(MPerClassSampler.State.fromLongs(saved));
        for (int[] expected : after) assertArrayEquals(expected, resumed.next());
    }

    @Test
    void differentSeedsDifferAndForeignStatesAreRejected() {
        long[] labels = new long[60];
        for (int i = 0; i < 60; i++) labels[i] = i % 10;
        Dataset d = DatasetTest.synthetic(labels);
        MPerClassSampler a = new MPerClassSampler(d, 8, 2, 1);
        MPerClassSampler b = new MPerClassSampler(d, 8, 2, 2);
        assertFalse(Arrays.equals(a.next(), b.next()) && Arrays.equals(a.next(), b.next()));
        assertThrows(IllegalArgumentException.class, () -> b.restore(a.state()));
        MPerClassSampler c = new MPerClassSampler(d, 8, 4, 1);
        assertThrows(IllegalArgumentException.class, () -> c.restore(a.state()));
    }

    @Test
    void invalidArgumentsAreRejected() {
        Dataset d = DatasetTest.synthetic(1, 1, 2, 2, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> new MPerClassSampler(d, 7, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> new MPerClassSampler(d, 8, 2, 0)); // 4 classes needed
        assertThrows(IllegalArgumentException.class, () -> new MPerClassSampler(d, 4, 0, 0));
        assertEquals(3, new MPerClassSampler(d, 6, 2, 0).classesPerBatch());
    }
}
