package dev.irtj.eval;

import dev.irtj.tensor.TopKSelector;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The packed ranking keys and the selection behind {@link Knn} ({@link TopKSelector}, in tensor). */
class TopKTest {

    @Provide
    Arbitrary<Float> similarities() {
        return Arbitraries.oneOf(
                Arbitraries.floats(),
                Arbitraries.of(0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                        Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE));
    }

    @Property(tries = 2000)
    void keyOrderIsTheRankingOrder(@ForAll("similarities") float a, @ForAll @IntRange(max = 1000) int ia,
                                   @ForAll("similarities") float b, @ForAll @IntRange(max = 1000) int ib) {
        if (ia == ib) ib++;
        assertEquals(Ranking.before(a, ia, b, ib), TopKSelector.key(a, ia) < TopKSelector.key(b, ib));
        assertEquals(ia, TopKSelector.index(TopKSelector.key(a, ia)));
        float back = TopKSelector.similarity(TopKSelector.key(a, ia));
        if (Float.isNaN(a)) assertEquals(Float.NaN, back);
        else assertEquals(a == 0 ? 0f : a, back); // −0 comes back as +0
    }

    @Property(tries = 300)
    void selectSmallestKeepsTheMSmallest(@ForAll @Size(min = 1, max = 300) List<@IntRange(min = -50, max = 50) Integer> values,
                                         @ForAll @IntRange(min = 1, max = 300) int m) {
        // Distinct values, as the keys are: value * 1000 + position.
        long[] a = new long[values.size()];
        for (int i = 0; i < a.length; i++) a[i] = values.get(i) * 1000L + i;
        long[] sorted = a.clone();
        Arrays.sort(sorted);
        TopKSelector.selectSmallest(a, a.length, m);
        int mm = Math.min(m, a.length);
        long[] front = Arrays.copyOf(a, mm);
        Arrays.sort(front);
        assertArrayEquals(Arrays.copyOf(sorted, mm), front);
        if (m < a.length) assertEquals(sorted[m - 1], a[m - 1]);
    }

    @Test
    void everyArrivalOrderGivesTheSameTopK() {
        Random rnd = new Random(8);
        int n = 5000;
        float[] sims = new float[n];
        for (int i = 0; i < n; i++) sims[i] = rnd.nextInt(300) / 7f; // many ties
        Integer[] ranking = Naive.fullRanking(sims, -1);
        for (int k : new int[] {1, 2, 10, 100, 1000, 4999, 5000}) {
            int[] want = new int[k];
            for (int i = 0; i < k; i++) want[i] = ranking[i];
            // In index order, in increasing similarity (every item beats the threshold), decreasing.
            for (String order : new String[] {"index", "ascending", "descending"}) {
                TopKSelector t = new TopKSelector(k);
                float[] row = new float[1];
                Integer[] arrival = switch (order) {
                    case "index" -> java.util.stream.IntStream.range(0, n).boxed().toArray(Integer[]::new);
                    case "ascending" -> reversed(ranking);
                    default -> ranking.clone();
                };
                for (int j : arrival) {
                    row[0] = sims[j];
                    t.offerRow(row, 0, 1, j, -1);
                }
                int[] idx = new int[k];
                float[] s = new float[k];
                t.sortedInto(idx, s);
                assertArrayEquals(want, idx, "k " + k + ", arrival " + order);
                for (int i = 0; i < k; i++) assertEquals(sims[want[i]], s[i]);
            }
        }
    }

    private static Integer[] reversed(Integer[] a) {
        Integer[] r = new Integer[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
        return r;
    }
}
