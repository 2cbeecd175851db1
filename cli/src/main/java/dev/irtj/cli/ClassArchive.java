package dev.irtj.cli;

import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The work the {@code irt} launcher runs once per jar build under
 * {@code -XX:ArchiveClassesAtExit}, so that the JVM's dynamic class-data-sharing archive holds
 * the classes that commands load: irt's command line, and an index built, searched, updated and
 * merged in a temporary folder (Lucene's indexing chain, flush, codecs and readers, irt's graph
 * builder and walk). Later runs map those classes from the archive, parsed and verified, instead
 * of loading them from the jar: in a fresh process that takes opening an index from ~0.5 to
 * ~0.2 CPU s (bench/README.md, branch {@code coldbuild}).
 *
 * <p>Not a command: nothing a user runs. It prints nothing and exits 0 when the work succeeded.
 */
public final class ClassArchive {
    private ClassArchive() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 0) throw new IllegalArgumentException("ClassArchive takes no arguments");
        Irt.commandLine().getCommandSpec();
        Path dir = Files.createTempDirectory("irt-class-archive-");
        try {
            exerciseIndex(dir.resolve("index"));
        } finally {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** Every write and read path of the embedded index, on a few hundred random unit vectors. */
    private static void exerciseIndex(Path dir) throws IOException {
        int dims = 16, n = 600;
        SplittableRandom random = new SplittableRandom(1);
        List<IndexedImage> images = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] v = new float[dims];
            double sq = 0;
            for (int j = 0; j < dims; j++) {
                v[j] = (float) (random.nextDouble() - 0.5);
                sq += (double) v[j] * v[j];
            }
            float inv = (float) (1 / Math.sqrt(sq));
            for (int j = 0; j < dims; j++) v[j] *= inv;
            String id = "class-" + (i % 3) + "/" + i + ".png";
            images.add(new IndexedImage(id, "/images/" + id, v, (long) (i % 3), 1000 + i, 1_700_000_000_000L + i, 28, 28,
                    i % 2 == 0 ? Map.of("class", "class-" + (i % 3)) : Map.of()));
        }
        LuceneIndex.Identity identity = new LuceneIndex.Identity("class-archive", "random vectors", null, dims);
        try (LuceneIndex index = LuceneIndex.open(dir, identity, LuceneIndex.Options.defaults())) {
            // Two commits (two segments), a replacement, a deletion and a merge, then every kind of search.
            index.upsert(images.subList(0, n / 2));
            index.commit();
            index.upsert(images.subList(n / 2, n));
            index.upsert(images.subList(0, 10));
            index.delete(List.of(images.get(20).id()));
            index.commit();
            index.merge(1);
            for (int q = 0; q < 50; q++) {
                float[] query = images.get(q).vector();
                index.search(query, 10);
                index.search(query, 10, 40);
                index.searchExact(query, 10);
            }
            index.get(images.get(1).id());
            index.stamps();
            index.info();
        }
        try (VectorIndex readOnly = LuceneIndex.openReadOnly(dir)) {
            readOnly.search(images.get(0).vector(), 5);
        }
    }
}
