package dev.irtj.index;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatalogueTest {
    static LuceneIndex open(Path dir, FakeDescriber d) throws IOException {
        return LuceneIndex.open(dir, LuceneIndex.Identity.of(d), LuceneIndex.Options.defaults());
    }

    static Catalogue.Report update(Path indexDir, FakeDescriber d, Catalogue.Options o, Catalogue.Selection sel) throws IOException {
        try (LuceneIndex index = open(indexDir, d)) {
            return new Catalogue(index, d, o).update(sel, new Catalogue.Listener() { });
        }
    }

    static Set<String> ids(Path indexDir) throws IOException {
        try (LuceneIndex index = LuceneIndex.openReadOnly(indexDir)) {
            return new TreeSet<>(index.stamps().keySet());
        }
    }

    @Test
    void incrementalUpdatesDescribeOnlyNewAndChangedFiles(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        List<Path> files = Images.folder(root, 3, 3);
        FakeDescriber d = new FakeDescriber();
        Catalogue.Selection sel = Catalogue.Selection.of(List.of(root));

        Catalogue.Report first = update(idx, d, Catalogue.Options.defaults(), sel);
        assertEquals(9, d.described.get());
        assertEquals(9, first.described());
        assertEquals(9, first.plan().added());
        assertEquals(Set.of("class0/img0.png", "class0/img1.png", "class0/img2.png", "class1/img0.png", "class1/img1.png",
                "class1/img2.png", "class2/img0.png", "class2/img1.png", "class2/img2.png"), ids(idx));

        Catalogue.Report again = update(idx, d, Catalogue.Options.defaults(), Catalogue.Selection.of(List.of(root)));
        assertEquals(9, d.described.get(), "an unchanged catalogue describes nothing");
        assertEquals(9, again.plan().unchanged());

        Path added = Images.png(root.resolve("class1/new.png"), 77, 16, 12);
        Files.delete(files.get(0));                                          // class0/img0.png
        Images.png(files.get(4), 555, 20, 12);                                // class1/img1.png: new content, new size
        Files.setLastModifiedTime(files.get(8), FileTime.fromMillis(Files.getLastModifiedTime(files.get(8)).toMillis() - 60_000));
        Catalogue.Report third = update(idx, d, Catalogue.Options.defaults(), Catalogue.Selection.of(List.of(root)));
        assertEquals(9 + 3, d.described.get(), "one new and two changed files are described, nothing else");
        assertEquals(1, third.plan().added());
        assertEquals(2, third.plan().changed());
        assertEquals(1, third.plan().removed());
        assertEquals(6, third.plan().unchanged());
        Set<String> now = ids(idx);
        assertEquals(9, now.size());
        assertTrue(now.contains("class1/new.png") && !now.contains("class0/img0.png"), now.toString());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            float[] changed = d.describe(files.get(4));
            VectorIndex.Hit top = index.search(changed, 1).get(0);
            assertEquals("class1/img1.png", top.image().id());
            assertEquals(1.0f, top.score(), 1e-5f);
            assertEquals(20, top.image().width());
            assertEquals(added.toString(), index.get("class1/new.png").orElseThrow().path());
        }
    }

    @Test
    void labelsComeFromTheClassFolderAndFollowItsRank(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        Images.folder(root, 2, 2);
        Images.png(root.resolve("class1/sub/deep.png"), 9, 8, 8);
        Images.png(root.resolve("loose.png"), 10, 8, 8);
        FakeDescriber d = new FakeDescriber();
        update(idx, d, Catalogue.Options.defaults(), Catalogue.Selection.of(List.of(root)));
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            assertEquals(0L, index.get("class0/img1.png").orElseThrow().label());
            assertEquals(1L, index.get("class1/sub/deep.png").orElseThrow().label());
            assertEquals("class1", index.get("class1/sub/deep.png").orElseThrow().metadata().get(Catalogue.CLASS_KEY));
            IndexedImage loose = index.get("loose.png").orElseThrow();
            assertNull(loose.label());
            assertFalse(loose.metadata().containsKey(Catalogue.CLASS_KEY));
        }
        // A class folder that sorts first shifts every rank: labels are rewritten, nothing is re-described.
        Images.png(root.resolve("aaa/first.png"), 11, 8, 8);
        int before = d.described.get();
        Catalogue.Report r = update(idx, d, Catalogue.Options.defaults(), Catalogue.Selection.of(List.of(root)));
        assertEquals(before + 1, d.described.get());
        assertEquals(5, r.plan().rewritten());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            assertEquals(0L, index.get("aaa/first.png").orElseThrow().label());
            assertEquals(1L, index.get("class0/img1.png").orElseThrow().label());
            assertEquals(2L, index.get("class1/img0.png").orElseThrow().label());
            assertEquals(7, index.info().count());
        }
    }

    @Test
    void hashModeJudgesByContentNotByStamp(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        List<Path> files = Images.folder(root, 1, 3);
        FakeDescriber d = new FakeDescriber();
        Catalogue.Options hash = new Catalogue.Options(256, true, null);
        update(idx, d, hash, Catalogue.Selection.of(List.of(root)));
        assertEquals(3, d.described.get());

        // Touched: new mtime, same bytes -> stamp rewritten, not described.
        Files.setLastModifiedTime(files.get(0), FileTime.fromMillis(1_600_000_000_000L));
        // Same size and mtime, other content -> described.
        FileTime t = Files.getLastModifiedTime(files.get(1));
        byte[] other = Files.readAllBytes(Images.png(dir.resolve("other.png"), 4242, 16, 12));
        Files.write(files.get(1), other);
        Files.setLastModifiedTime(files.get(1), t);
        Catalogue.Report r = update(idx, d, hash, Catalogue.Selection.of(List.of(root)));
        assertEquals(4, d.described.get());
        assertEquals(1, r.plan().changed());
        assertEquals(1, r.plan().rewritten());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            IndexedImage touched = index.get("class0/img0.png").orElseThrow();
            assertEquals(1_600_000_000_000L, touched.modified());
            assertEquals(Catalogue.sha256(files.get(0)), touched.metadata().get(Catalogue.HASH_KEY));
            assertEquals(Catalogue.sha256(files.get(1)), index.get("class0/img1.png").orElseThrow().metadata().get(Catalogue.HASH_KEY));
        }
    }

    @Test
    void csvSidecarGivesMetadataAndLabels(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        Images.folder(root, 2, 2);
        Path csv = Files.writeString(dir.resolve("meta.csv"), """
                path,title,label,price
                class0/img0.png,"Red, big","7",12.5
                class1/img1.png,"She said ""hi""
                on two lines",,3
                missing/file.png,x,,1
                """);
        FakeDescriber d = new FakeDescriber();
        Catalogue.Report r = update(idx, d, new Catalogue.Options(256, false, csv), Catalogue.Selection.of(List.of(root)));
        assertEquals(1, r.unmatchedMetadataRows());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            IndexedImage a = index.get("class0/img0.png").orElseThrow();
            assertEquals(7L, a.label());
            assertEquals(Map.of("class", "class0", "title", "Red, big", "price", "12.5"), a.metadata());
            IndexedImage b = index.get("class1/img1.png").orElseThrow();
            assertEquals(1L, b.label());   // empty label cell: the folder's
            assertEquals("She said \"hi\"\non two lines", b.metadata().get("title"));
            assertEquals(Map.of("class", "class0"), index.get("class0/img1.png").orElseThrow().metadata());
        }
        // Changing only the sidecar rewrites metadata without describing.
        Files.writeString(csv, "path,title\nclass0/img1.png,now titled\n");
        int before = d.described.get();
        update(idx, d, new Catalogue.Options(256, false, csv), Catalogue.Selection.of(List.of(root)));
        assertEquals(before, d.described.get());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            assertEquals("now titled", index.get("class0/img1.png").orElseThrow().metadata().get("title"));
            assertEquals(0L, index.get("class0/img0.png").orElseThrow().label());
            assertFalse(index.get("class0/img0.png").orElseThrow().metadata().containsKey("title"));
        }
    }

    @Test
    void jsonLinesSidecarGivesMetadata(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        Images.folder(root, 1, 2);
        Path jsonl = Files.writeString(dir.resolve("meta.jsonl"), """
                {"path": "class0/img0.png", "title": "first", "stock": 3, "tags": ["a", "b"], "label": 4}

                {"path": "%s", "title": "second", "ok": true, "none": null}
                """.formatted(root.resolve("class0/img1.png").toAbsolutePath()));
        FakeDescriber d = new FakeDescriber();
        update(idx, d, new Catalogue.Options(256, false, jsonl), Catalogue.Selection.of(List.of(root)));
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            IndexedImage a = index.get("class0/img0.png").orElseThrow();
            assertEquals(4L, a.label());
            assertEquals(Map.of("class", "class0", "title", "first", "stock", "3", "tags", "[\"a\",\"b\"]"), a.metadata());
            assertEquals(Map.of("class", "class0", "title", "second", "ok", "true"), index.get("class0/img1.png").orElseThrow().metadata());
        }
    }

    @Test
    void badSidecarsAreRefusedNamingFileAndLineBeforeAnyCompute(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos");
        Images.folder(root, 1, 2);
        FakeDescriber d = new FakeDescriber();
        Map<String, String> bad = Map.of(
                "nopath.csv", "file,title\na,b\n", "label.csv", "path,label\nclass0/img0.png,seven\n",
                "width.csv", "path,title\nclass0/img0.png,a,b\n", "twice.csv", "path,t\nclass0/img0.png,a\nclass0/img0.png,b\n",
                "broken.jsonl", "{\"path\": \"x\"}\n{oops\n", "nokey.jsonl", "{\"file\": \"x\"}\n", "meta.txt", "path\n");
        Map<String, String> expect = Map.of("nopath.csv", ":1:", "label.csv", ":2:", "width.csv", ":2:", "twice.csv", ":3:",
                "broken.jsonl", ":2:", "nokey.jsonl", ":1:", "meta.txt", ".csv");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            Path f = Files.writeString(dir.resolve(e.getKey()), e.getValue());
            IOException ex = assertThrows(IOException.class,
                    () -> update(dir.resolve("index-" + e.getKey()), d, new Catalogue.Options(256, false, f), Catalogue.Selection.of(List.of(root))));
            assertTrue(ex.getMessage().contains(e.getKey()) && ex.getMessage().contains(expect.get(e.getKey())), e.getKey() + ": " + ex.getMessage());
        }
        assertEquals(0, d.described.get());
    }

    @Test
    void undecodableFilesAreSkippedAndReportedByPath(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        Images.folder(root, 1, 3);
        Path broken = Files.writeString(root.resolve("class0/broken.png"), "not a png");
        Files.write(root.resolve("class0/empty.jpg"), new byte[0]);
        FakeDescriber d = new FakeDescriber();
        List<Catalogue.Skipped> heard = new ArrayList<>();
        Catalogue.Report r;
        try (LuceneIndex index = open(idx, d)) {
            r = new Catalogue(index, d, Catalogue.Options.defaults()).update(Catalogue.Selection.of(List.of(root)), new Catalogue.Listener() {
                @Override
                public void skipped(Catalogue.Skipped s) {
                    heard.add(s);
                }
            });
        }
        assertEquals(3, r.described());
        assertEquals(2, r.skipped().size());
        assertEquals(r.skipped(), heard);
        assertEquals(broken.toAbsolutePath(), r.skipped().get(0).file());
        assertTrue(r.skipped().get(0).reason() != null && !r.skipped().get(0).reason().isBlank());
        assertEquals(3, ids(idx).size());
    }

    @Test
    void anotherDescriberIsRefusedBeforeAnyCompute(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        Images.folder(root, 1, 2);
        FakeDescriber a = new FakeDescriber("fake-a", 0), b = new FakeDescriber("fake-b", 0);
        update(idx, a, Catalogue.Options.defaults(), Catalogue.Selection.of(List.of(root)));
        try (LuceneIndex index = open(idx, a)) {
            IndexMismatchException e = assertThrows(IndexMismatchException.class,
                    () -> new Catalogue(index, b, Catalogue.Options.defaults()).update(Catalogue.Selection.of(List.of(root)), new Catalogue.Listener() { }));
            assertTrue(e.getMessage().contains("fake-a") && e.getMessage().contains("fake-b"), e.getMessage());
        }
        assertThrows(IndexMismatchException.class, () -> open(idx, b));
        assertEquals(0, b.described.get());
    }

    @Test
    void commitsEveryNImagesAndListFilesAndSeveralInputsWork(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos"), idx = dir.resolve("index");
        List<Path> files = Images.folder(root, 2, 4);
        FakeDescriber d = new FakeDescriber();
        List<Integer> commits = new ArrayList<>();
        try (LuceneIndex index = open(idx, d)) {
            Catalogue.Report r = new Catalogue(index, d, new Catalogue.Options(3, false, null))
                    .update(Catalogue.Selection.of(List.of(root.resolve("class0"), files.get(5))), new Catalogue.Listener() {
                        @Override
                        public void committed(int imagesSoFar) {
                            commits.add(imagesSoFar);
                        }
                    });
            assertEquals(root.toAbsolutePath(), r.plan().root());   // the deepest folder holding both inputs
            assertEquals(List.of(3, 5), commits);
        }
        assertEquals(Set.of("class0/img0.png", "class0/img1.png", "class0/img2.png", "class0/img3.png", "class1/img1.png"), ids(idx));

        // A list file naming two files of class0: the rest are removed, and ids stay relative to
        // the recorded root (photos), not to the list's own common folder (photos/class0).
        Path list = Files.writeString(dir.resolve("list.txt"), "# two files\nphotos/class0/img1.png\n\n" + files.get(2).toAbsolutePath() + "\n");
        Catalogue.Selection listed = Catalogue.Selection.fromList(list);
        assertEquals(root.resolve("class0").toAbsolutePath(), listed.root());
        Catalogue.Report r = update(idx, d, Catalogue.Options.defaults(), listed);
        assertEquals(3, r.plan().removed());
        assertEquals(2, r.plan().unchanged());
        assertEquals(Set.of("class0/img1.png", "class0/img2.png"), ids(idx));
        assertEquals(5, d.described.get());

        Path bad = Files.writeString(dir.resolve("bad.txt"), "photos/class0/img1.png\nphotos/nope.png\n");
        IOException e = assertThrows(IOException.class, () -> Catalogue.Selection.fromList(bad));
        assertTrue(e.getMessage().contains("bad.txt:2"), e.getMessage());

        // A list that is not UTF-8, or names a path with a NUL byte: one line naming the list (and line).
        Path latin1 = Files.write(dir.resolve("latin1.txt"), new byte[] {'a', (byte) 0xE9, '\n'});
        e = assertThrows(IOException.class, () -> Catalogue.Selection.fromList(latin1));
        assertTrue(e.getMessage().startsWith(latin1 + ": not UTF-8"), e.getMessage());
        Path nul = Files.writeString(dir.resolve("nul.txt"), "photos/class0/img1.png\nphotos/a\u0000b.png\n");
        e = assertThrows(IOException.class, () -> Catalogue.Selection.fromList(nul));
        assertTrue(e.getMessage().startsWith(nul + ":2: not a valid path"), e.getMessage());
    }

    /** A bulk update (at least mergeAfterCommits commits) ends with one segment; 0 leaves Lucene's layout. */
    @Test
    void aBulkUpdateIsMergedIntoOneSegmentUnlessTurnedOff(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("photos");
        Images.folder(root, 2, 4);
        FakeDescriber d = new FakeDescriber();
        for (int mergeAfter : new int[] {0, 4}) {
            Path idx = dir.resolve("index-" + mergeAfter);
            try (LuceneIndex index = open(idx, d)) {
                // commitEvery 1: eight images, eight commits, eight flushed segments.
                Catalogue.Report r = new Catalogue(index, d, new Catalogue.Options(1, false, null, mergeAfter))
                        .update(Catalogue.Selection.of(List.of(root)), new Catalogue.Listener() { });
                assertTrue(r.commits() >= 4, "commits " + r.commits());
                if (mergeAfter == 0) {
                    assertTrue(index.segments() > 1, "segments " + index.segments());
                } else {
                    assertEquals(1, index.segments());
                }
                assertEquals(8, index.info().count());
            }
            assertEquals(8, ids(idx).size());
        }
        assertEquals(Catalogue.Options.DEFAULT_MERGE_AFTER_COMMITS, Catalogue.Options.defaults().mergeAfterCommits());
    }
}
