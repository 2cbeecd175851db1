package dev.irtj.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongPredicate;

/**
 * An immutable list of samples (an {@link ImageSource} and a {@code long} label) with class
 * bookkeeping.
 *
 * <p><b>Labels are kept as the reader gives them</b>, not remapped: the class id of a Stanford
 * Online Products line, the CUB class number (1..200), the In-Shop item number, the MNIST digit,
 * the sorted-folder rank of an image folder. Only equality of labels matters to retrieval
 * training and Recall@K. Where dense ids 0..K-1 are wanted (e.g. for a classification head),
 * {@link #withDenseLabels()} makes them, and {@link #classIndex(long)} maps a label to its
 * dense id without copying anything.
 *
 * <p>Classes are ordered by label value: class index {@code c} is {@code classes()[c]}, the
 * {@code c}-th smallest distinct label. The indices of a class are in dataset order.
 */
public final class Dataset {
    /** One sample. */
    public record Sample(ImageSource source, long label) {
        public Sample {
            Objects.requireNonNull(source, "source");
        }
    }

    private final String name;
    private final List<Sample> samples;
    private final long[] labels;
    private final long[] classes;
    private final int[][] members;
    private final Map<Long, Integer> classIndex;

    /** A dataset over a copy of {@code samples}; {@code name} appears in messages (e.g. "cub-train"). */
    public Dataset(String name, List<Sample> samples) {
        this.name = Objects.requireNonNull(name, "name");
        this.samples = Collections.unmodifiableList(new ArrayList<>(samples));
        int n = this.samples.size();
        labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = this.samples.get(i).label();
        classes = Arrays.stream(labels).distinct().sorted().toArray();
        classIndex = new HashMap<>(classes.length * 2);
        for (int c = 0; c < classes.length; c++) classIndex.put(classes[c], c);
        int[] counts = new int[classes.length];
        int[] cls = new int[n];
        for (int i = 0; i < n; i++) {
            cls[i] = classIndex.get(labels[i]);
            counts[cls[i]]++;
        }
        members = new int[classes.length][];
        for (int c = 0; c < classes.length; c++) members[c] = new int[counts[c]];
        int[] fill = new int[classes.length];
        for (int i = 0; i < n; i++) members[cls[i]][fill[cls[i]]++] = i;
    }

    public static Dataset of(String name, List<ImageSource> sources, long[] labels) {
        if (sources.size() != labels.length) {
            throw new IllegalArgumentException(sources.size() + " sources but " + labels.length + " labels");
        }
        List<Sample> s = new ArrayList<>(labels.length);
        for (int i = 0; i < labels.length; i++) s.add(new Sample(sources.get(i), labels[i]));
        return new Dataset(name, s);
    }

    public String name() {
        return name;
    }

    public int size() {
        return samples.size();
    }

    public boolean isEmpty() {
        return samples.isEmpty();
    }

    public Sample get(int index) {
        return samples.get(index);
    }

    public ImageSource source(int index) {
        return samples.get(index).source();
    }

    public long label(int index) {
        return labels[index];
    }

    /** All labels in dataset order (a copy). */
    public long[] labels() {
        return labels.clone();
    }

    /** The samples, unmodifiable. */
    public List<Sample> samples() {
        return samples;
    }

    public int numClasses() {
        return classes.length;
    }

    /** The distinct labels, ascending (a copy); position = class index. */
    public long[] classes() {
        return classes.clone();
    }

    /** Dense class index 0..numClasses()-1 of {@code label}, or -1 if no sample has it. */
    public int classIndex(long label) {
        Integer c = classIndex.get(label);
        return c == null ? -1 : c;
    }

    /** Indices of the samples labelled {@code label}, ascending (a copy; empty if none). */
    public int[] indicesOf(long label) {
        int c = classIndex(label);
        return c < 0 ? new int[0] : members[c].clone();
    }

    /** Indices of the samples of class index {@code c}, ascending (a copy). */
    public int[] indicesOfClass(int c) {
        return members[c].clone();
    }

    /** Number of samples of class index {@code c}. */
    public int classSize(int c) {
        return members[c].length;
    }

    /** The members of class index c without copying; callers in this package must not modify it. */
    int[] membersOfClass(int c) {
        return members[c];
    }

    /** The samples at {@code indices}, in that order. */
    public Dataset subset(String newName, int[] indices) {
        List<Sample> s = new ArrayList<>(indices.length);
        for (int i : indices) s.add(samples.get(i));
        return new Dataset(newName, s);
    }

    /** The samples whose label passes {@code keep}, in dataset order, labels unchanged. */
    public Dataset filterLabels(LongPredicate keep) {
        List<Sample> s = new ArrayList<>();
        for (Sample x : samples) if (keep.test(x.label())) s.add(x);
        return new Dataset(name, s);
    }

    /** The samples of classes with at least {@code k} images (e.g. k = 2 so that every anchor has a positive). */
    public Dataset withMinClassSize(int k) {
        return filterLabels(l -> members[classIndex.get(l)].length >= k);
    }

    /** The same samples with every label replaced by its class index 0..numClasses()-1. */
    public Dataset withDenseLabels() {
        List<Sample> s = new ArrayList<>(samples.size());
        for (Sample x : samples) s.add(new Sample(x.source(), classIndex.get(x.label())));
        return new Dataset(name, s);
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ": " + size() + " images, " + numClasses() + " classes]";
    }
}
