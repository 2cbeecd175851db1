package dev.irtj.index;

import dev.irtj.retrieval.ModelSource;

import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.train.data.ImageFolder;
import dev.irtj.vit.image.ImageFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Brings an index up to date with a set of image files.
 *
 * <p>Ids are paths relative to the catalogue root with '/' separators; the stored path is the
 * absolute one. New files are described and added, files no longer in the set removed, and
 * files whose size or modification time changed (with {@link Options#hash()}: whose SHA-256
 * changed) described again; files whose label, metadata or location changed but not their
 * content are rewritten with their stored vector, without describing them.
 *
 * <p>Labels: an image's class is the first folder of its id (the class folder directly below
 * the root, as {@code irt train --format folder} reads a dataset: {@code root/<class>/.../img});
 * the label is that folder's rank among the root's sub-folders sorted by name
 * ({@link ImageFolder#classNames}), so it equals the training label, and the folder name is
 * kept in the metadata field {@value #CLASS_KEY}. Files directly in the root have no label. A
 * sidecar's {@code label} column overrides the folder's.
 *
 * <p>Crash safety: removals are committed first, then every {@link Options#commitEvery()}
 * described images; a process killed at any point leaves the last commit searchable, and a
 * rerun finds the committed images unchanged and describes only the rest (ids are unique in
 * the index: an upsert replaces).
 */
public final class Catalogue {
    /** Metadata field holding the content hash when indexing with {@link Options#hash()}; reserved. */
    public static final String HASH_KEY = "irtj:sha256";
    /** Metadata field holding the class folder's name. */
    public static final String CLASS_KEY = "class";

    /**
     * @param commitEvery commit after this many described images (at least 1)
     * @param hash decide "changed" by content hash instead of size and modification time
     * @param metadata a CSV or JSON-lines sidecar of user fields (see {@link Sidecar}), or null
     * @param mergeAfterCommits after an update that committed at least this many times, merge the
     *     index into one segment ({@link VectorIndex#merge}); 0: never
     */
    public record Options(int commitEvery, boolean hash, Path metadata, int mergeAfterCommits) {
        public static final int DEFAULT_COMMIT_EVERY = 256;
        /**
         * Every commit writes a segment, and each segment is one more HNSW graph that every search
         * walks with the full efSearch; Lucene's merge policy keeps about ten per size tier, so a
         * bulk update leaves several. Merging them costs one re-insertion of the vectors of all
         * but the largest segment, paid once, while describing the images of four commits (1024
         * at the default commitEvery) with a ViT costs far more than that; a small incremental
         * update (fewer commits) leaves the layout to Lucene's merge policy.
         */
        public static final int DEFAULT_MERGE_AFTER_COMMITS = 4;

        public Options {
            if (commitEvery < 1) throw new IllegalArgumentException("commitEvery must be >= 1, got " + commitEvery);
            if (mergeAfterCommits < 0) throw new IllegalArgumentException("mergeAfterCommits must be >= 0, got " + mergeAfterCommits);
        }

        public Options(int commitEvery, boolean hash, Path metadata) {
            this(commitEvery, hash, metadata, DEFAULT_MERGE_AFTER_COMMITS);
        }

        public static Options defaults() {
            return new Options(DEFAULT_COMMIT_EVERY, false, null);
        }

        public Options withMergeAfterCommits(int n) {
            return new Options(commitEvery, hash, metadata, n);
        }
    }

    /** The set of files and the folder their ids are relative to. */
    public record Selection(Path root, List<Path> files) {
        public Selection {
            root = root.toAbsolutePath().normalize();
            files = List.copyOf(files);
        }

        /**
         * Files and folders (searched recursively for image files, {@link ImageFiles}); the root is
         * the deepest folder containing all of them (the folder itself when one folder is given).
         */
        public static Selection of(Collection<Path> inputs) throws IOException {
            if (inputs.isEmpty()) throw new IllegalArgumentException("no images given");
            TreeSet<Path> files = new TreeSet<>();
            List<Path> tops = new ArrayList<>();
            for (Path in : inputs) {
                Path p = in.toAbsolutePath().normalize();
                if (Files.isDirectory(p)) {
                    files.addAll(ImageFiles.walk(p));
                    tops.add(p);
                } else if (Files.isRegularFile(p)) {
                    files.add(p);
                    tops.add(p.getParent());
                } else {
                    throw new NoSuchFileException(in.toString(), null, "no such image file or folder");
                }
            }
            return new Selection(commonAncestor(tops), new ArrayList<>(files));
        }

        /**
         * A list file: one image path per line (relative paths from the list file's folder;
         * blank lines and lines starting with '#' ignored). Every file must exist.
         */
        public static Selection fromList(Path list) throws IOException {
            if (!Files.isRegularFile(list)) throw new NoSuchFileException(list.toString(), null, "no such list file");
            TreeSet<Path> files = new TreeSet<>();
            for (ImageFiles.Listed l : ImageFiles.readList(list)) {
                Path p = l.path().normalize();
                if (!Files.isRegularFile(p)) throw new NoSuchFileException(list + ":" + l.line(), null, "no such image file " + p);
                files.add(p);
            }
            if (files.isEmpty()) throw new IOException(list + ": lists no image files");
            List<Path> parents = files.stream().map(Path::getParent).toList();
            return new Selection(commonAncestor(parents), new ArrayList<>(files));
        }

        private static Path commonAncestor(List<Path> dirs) {
            Path common = dirs.get(0);
            for (Path d : dirs) {
                while (!d.startsWith(common)) common = common.getParent();
            }
            return common;
        }

        /** The same files under another root (which must contain them all). */
        Selection under(Path newRoot) {
            return new Selection(newRoot, files);
        }

        boolean allUnder(Path dir) {
            return files.stream().allMatch(f -> f.startsWith(dir));
        }

        String id(Path file) {
            String rel = root.relativize(file).toString();
            return rel.replace(file.getFileSystem().getSeparator(), "/");
        }
    }

    /** What a run will do, known before any image is described. */
    public record Plan(Path root, int total, int toDescribe, int added, int changed, int rewritten, int removed, int unchanged) {
    }

    /** What a run did. */
    public record Report(Plan plan, int described, List<Skipped> skipped, int commits, int unmatchedMetadataRows) {
    }

    /** A file that could not be decoded: not indexed, reported by path. */
    public record Skipped(Path file, String reason) {
    }

    /** Hears about the run as it goes (all calls on the calling thread). */
    public interface Listener {
        default void planned(Plan plan) {
        }

        /** One file of {@link Plan#toDescribe()} is done (described or skipped). */
        default void stepped() {
        }

        default void skipped(Skipped skipped) {
        }

        default void committed(int imagesSoFar) {
        }
    }

    private final VectorIndex index;
    private final ImageDescriber describer;
    private final Options options;

    public Catalogue(VectorIndex index, ImageDescriber describer, Options options) {
        this.index = Objects.requireNonNull(index, "index");
        this.describer = Objects.requireNonNull(describer, "describer");
        this.options = Objects.requireNonNull(options, "options");
    }

    /** Checks, plans and applies; nothing is described before every input has been checked. */
    public Report update(Selection selection, Listener listener) throws IOException {
        IndexInfo info = index.info();
        if (!info.fingerprint().equals(describer.fingerprint()) || info.dims() != describer.dims()) {
            throw new IndexMismatchException("the index holds descriptors of " + info.describer() + " (fingerprint " + info.fingerprint()
                    + ", " + info.dims() + " dims), not of " + describer.describe() + " (fingerprint " + describer.fingerprint() + ", "
                    + describer.dims() + " dims); descriptors of different models are not comparable");
        }
        Map<String, IndexedImage.Stamp> stamps = index.stamps();
        Selection sel = keepRecordedRoot(selection, stamps);
        Sidecar sidecar = options.metadata() == null ? null : Sidecar.read(options.metadata());

        List<String> classes = ImageFolder.classNames(sel.root());
        Map<String, Sidecar.Row> rows = new HashMap<>();
        int unmatched = 0;
        Map<String, Path> byId = new LinkedHashMap<>();
        for (Path f : sel.files()) byId.put(sel.id(f), f);
        if (sidecar != null) {
            for (Sidecar.Row r : sidecar.rows()) {
                Path p = sel.root().resolve(r.path()).normalize();
                String id = p.startsWith(sel.root()) ? sel.id(p) : null;
                if (id == null || !byId.containsKey(id)) {
                    unmatched++;
                    continue;
                }
                Sidecar.Row prev = rows.put(id, r);
                if (prev != null) {
                    throw new IOException(sidecar.file() + ":" + r.line() + ": " + r.path() + " already has metadata on line " + prev.line());
                }
            }
        }

        // Classify every file.
        List<Pending> describe = new ArrayList<>();
        List<String> rewrite = new ArrayList<>();
        Map<String, Pending> wanted = new HashMap<>();
        int added = 0, changed = 0, unchanged = 0;
        for (Map.Entry<String, Path> e : byId.entrySet()) {
            String id = e.getKey();
            Path file = e.getValue();
            long bytes = Files.size(file), modified = Files.getLastModifiedTime(file).toMillis();
            Pending want = new Pending(id, file, bytes, modified, labelOf(id, classes, rows.get(id)), metadataOf(id, classes, rows.get(id)));
            IndexedImage.Stamp old = stamps.get(id);
            if (old == null) {
                added++;
                describe.add(want);
                continue;
            }
            boolean sameStamp = old.bytes() == bytes && old.modified() == modified;
            if (!options.hash() && !sameStamp) {
                changed++;
                describe.add(want);
                continue;
            }
            // Content unchanged by its stamp (or to be judged by its hash): compare what is stored.
            wanted.put(id, want);
        }
        // Compare label, metadata, path (and hash) of the rest with what is stored.
        for (Map.Entry<String, Pending> e : new TreeMap<>(wanted).entrySet()) {
            Pending want = e.getValue();
            IndexedImage stored = index.get(want.id).orElseThrow(() -> new IOException("image " + want.id + " vanished from the index"));
            if (options.hash()) {
                String hash = sha256(want.file);
                want.metadata.put(HASH_KEY, hash);
                if (!hash.equals(stored.metadata().get(HASH_KEY))) {
                    changed++;
                    describe.add(want);
                    continue;
                }
            } else if (stored.metadata().containsKey(HASH_KEY)) {
                // Kept although unchecked: should the content have changed under an unchanged stamp,
                // a later --hash run sees the mismatch and describes the file again.
                want.metadata.put(HASH_KEY, stored.metadata().get(HASH_KEY));
            }
            if (Objects.equals(stored.label(), want.label) && stored.metadata().equals(want.metadata)
                    && stored.path().equals(want.file.toString()) && stored.bytes() == want.bytes && stored.modified() == want.modified) {
                unchanged++;
            } else {
                want.stored = stored;
                rewrite.add(want.id);
            }
        }
        List<String> removed = new ArrayList<>();
        for (String id : stamps.keySet()) if (!byId.containsKey(id)) removed.add(id);
        removed.sort(null);
        describe.sort((a, b) -> a.id.compareTo(b.id));
        Plan plan = new Plan(sel.root(), byId.size(), describe.size(), added, changed, rewrite.size(), removed.size(), unchanged);
        listener.planned(plan);

        int commits = 0;
        if (!removed.isEmpty()) {
            index.delete(removed);
            index.commit();
            commits++;
        }
        // Label/metadata/location changes: the stored vector is still right.
        List<IndexedImage> batch = new ArrayList<>();
        for (String id : rewrite) {
            Pending p = wanted.get(id);
            IndexedImage s = p.stored;
            batch.add(new IndexedImage(id, p.file.toString(), s.vector(), p.label, p.bytes, p.modified, s.width(), s.height(), p.metadata));
            if (batch.size() >= options.commitEvery()) {
                index.upsert(batch);
                index.commit();
                commits++;
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            index.upsert(batch);
            index.commit();
            commits++;
            batch.clear();
        }

        if (options.hash()) {
            for (Pending p : describe) if (!p.metadata.containsKey(HASH_KEY)) p.metadata.put(HASH_KEY, sha256(p.file));
        }
        List<Skipped> skipped = new ArrayList<>();
        int[] described = {0}, sinceCommit = {0}, commitCount = {commits};
        Map<Path, Pending> byFile = new HashMap<>();
        for (Pending p : describe) byFile.put(p.file, p);
        List<Path> files = describe.stream().map(p -> p.file).toList();
        if (!files.isEmpty()) {
            IOException[] failure = {null};
            describer.describeAll(files, d -> {
                if (failure[0] != null) return;
                try {
                    Pending p = byFile.get(d.file());
                    if (d.ok()) {
                        index.upsert(List.of(new IndexedImage(p.id, p.file.toString(), d.vector(), p.label, p.bytes, p.modified,
                                d.width(), d.height(), p.metadata)));
                        described[0]++;
                        sinceCommit[0]++;
                    } else {
                        Skipped s = new Skipped(d.file(), d.error());
                        skipped.add(s);
                        listener.skipped(s);
                    }
                    listener.stepped();
                    if (sinceCommit[0] >= options.commitEvery()) {
                        index.commit();
                        commitCount[0]++;
                        sinceCommit[0] = 0;
                        listener.committed(described[0]);
                    }
                } catch (IOException e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) throw failure[0];
        }
        index.commit();
        commitCount[0]++;
        listener.committed(described[0]);
        // After the last commit, so that a kill during the merge loses nothing (the merge commits itself).
        if (options.mergeAfterCommits() > 0 && commitCount[0] >= options.mergeAfterCommits()) index.merge(1);
        return new Report(plan, described[0], List.copyOf(skipped), commitCount[0], unmatched);
    }

    /**
     * Ids stay stable across runs: when the index's images were stored under a root that still
     * contains every selected file (say the first run indexed {@code photos/} and this one only
     * {@code photos/new/}), ids stay relative to that root rather than the new selection's.
     */
    private static Selection keepRecordedRoot(Selection sel, Map<String, IndexedImage.Stamp> stamps) {
        Optional<Path> recorded = stamps.entrySet().stream().map(e -> rootOf(e.getKey(), e.getValue().path()))
                .filter(Objects::nonNull).findFirst();
        if (recorded.isPresent() && !recorded.get().equals(sel.root()) && sel.allUnder(recorded.get())) return sel.under(recorded.get());
        return sel;
    }

    private static Path rootOf(String id, String path) {
        String suffix = "/" + id;
        String p = path.replace('\\', '/');
        if (!p.endsWith(suffix)) return null;
        String root = path.substring(0, path.length() - suffix.length());
        return root.isEmpty() ? null : Path.of(root);
    }

    private static Long labelOf(String id, List<String> classes, Sidecar.Row row) {
        if (row != null && row.label() != null) return row.label();
        int slash = id.indexOf('/');
        if (slash < 0) return null;
        int rank = classes.indexOf(id.substring(0, slash));
        return rank < 0 ? null : (long) rank;
    }

    private static Map<String, String> metadataOf(String id, List<String> classes, Sidecar.Row row) {
        Map<String, String> m = new LinkedHashMap<>();
        int slash = id.indexOf('/');
        if (slash >= 0 && classes.contains(id.substring(0, slash))) m.put(CLASS_KEY, id.substring(0, slash));
        if (row != null) m.putAll(row.fields());
        return m;
    }

    /** The content hash --hash compares: the one {@link ModelSource#sha256} gives weights. */
    static String sha256(Path file) throws IOException {
        return ModelSource.sha256(file);
    }

    /** A file's wanted state. */
    private static final class Pending {
        final String id;
        final Path file;
        final long bytes, modified;
        final Long label;
        final Map<String, String> metadata;
        IndexedImage stored;

        Pending(String id, Path file, long bytes, long modified, Long label, Map<String, String> metadata) {
            this.id = id;
            this.file = file;
            this.bytes = bytes;
            this.modified = modified;
            this.label = label;
            this.metadata = metadata;
        }
    }
}
