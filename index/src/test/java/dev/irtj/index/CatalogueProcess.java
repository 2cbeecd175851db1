package dev.irtj.index;

import java.nio.file.Path;
import java.util.List;

/**
 * A catalogue update in its own process, for the kill test: {@code ROOT INDEX SLEEP_MS
 * COMMIT_EVERY}. Prints "described N skipped M" at the end.
 */
public final class CatalogueProcess {
    private CatalogueProcess() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]), indexDir = Path.of(args[1]);
        FakeDescriber describer = new FakeDescriber("fake-grid-v1", Long.parseLong(args[2]));
        try (LuceneIndex index = LuceneIndex.open(indexDir, LuceneIndex.Identity.of(describer), LuceneIndex.Options.defaults())) {
            Catalogue.Report r = new Catalogue(index, describer, new Catalogue.Options(Integer.parseInt(args[3]), false, null))
                    .update(Catalogue.Selection.of(List.of(root)), new Catalogue.Listener() {
                        @Override
                        public void committed(int imagesSoFar) {
                            System.out.println("committed " + imagesSoFar);
                        }
                    });
            System.out.println("described " + r.described() + " skipped " + r.skipped().size());
        }
    }
}
