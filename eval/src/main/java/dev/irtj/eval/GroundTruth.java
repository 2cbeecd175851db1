package dev.irtj.eval;

import java.util.Arrays;

/**
 * The revisited Oxford/Paris ground truth of one query: database indices (0-based) of its
 * {@code easy} and {@code hard} positives and of its {@code junk} images (neither positive nor
 * negative; removed from the ranking before AP is computed). Each list is read as a set; a null
 * list is empty. The arrays are copied in and out.
 */
public record GroundTruth(int[] easy, int[] hard, int[] junk) {
    private static final int[] NONE = new int[0];

    public GroundTruth {
        easy = checked(easy, "easy");
        hard = checked(hard, "hard");
        junk = checked(junk, "junk");
    }

    private static int[] checked(int[] a, String what) {
        if (a == null) return NONE;
        for (int i : a) if (i < 0) throw new IllegalArgumentException(what + " index " + i + " is negative");
        return a.clone();
    }

    @Override
    public int[] easy() {
        return easy.clone();
    }

    @Override
    public int[] hard() {
        return hard.clone();
    }

    @Override
    public int[] junk() {
        return junk.clone();
    }

    /** Largest index mentioned, or -1 when all lists are empty. */
    int maxIndex() {
        int m = -1;
        for (int[] a : new int[][] {easy, hard, junk}) for (int i : a) m = Math.max(m, i);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GroundTruth g && Arrays.equals(easy, g.easy) && Arrays.equals(hard, g.hard) && Arrays.equals(junk, g.junk);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(easy) + Arrays.hashCode(hard)) + Arrays.hashCode(junk);
    }

    @Override
    public String toString() {
        return "GroundTruth[easy=" + Arrays.toString(easy) + ", hard=" + Arrays.toString(hard) + ", junk=" + Arrays.toString(junk) + "]";
    }
}
