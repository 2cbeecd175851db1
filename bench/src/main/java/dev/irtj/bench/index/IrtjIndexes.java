package dev.irtj.bench.index;

import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * irtj's {@link LuceneIndex} for {@link IndexBench} ({@code --impl irtj}), loaded by name there so
 * that IndexBench also compiles on the Lucene 10 class path, which has no LuceneIndex.
 *
 * <p>Writes go through the VectorIndex methods unchanged. The sweep uses LuceneIndex's own public
 * search entry points, {@link LuceneIndex#search(float[], int, int)} with the efSearch of the
 * sweep point and {@link LuceneIndex#searchExact}: the ones {@code search(query, k)} dispatches
 * to by the recorded options, so no reopening between sweep points is needed.
 */
public final class IrtjIndexes {
    private IrtjIndexes() {
    }

    public static IndexBench.Tunable open(Path dir, int dims, int m, int beam, boolean int8) throws IOException {
        LuceneIndex.Options options = LuceneIndex.Options.defaults().withHnswM(m).withBeamWidth(beam)
                .withQuantization(int8 ? LuceneIndex.Quantization.INT8 : LuceneIndex.Quantization.NONE);
        LuceneIndex index = LuceneIndex.open(dir, new LuceneIndex.Identity("bench", "benchmark vectors", null, dims), options);
        return new IndexBench.Tunable() {
            private volatile int ef = options.efSearch();
            private volatile boolean exact;

            @Override
            public void efSearch(int ef) {
                this.ef = ef;
            }

            @Override
            public void exact(boolean on) {
                this.exact = on;
            }

            @Override
            public IndexInfo info() throws IOException {
                return index.info();
            }

            @Override
            public void upsert(Collection<IndexedImage> images) throws IOException {
                index.upsert(images);
            }

            @Override
            public void delete(Collection<String> ids) throws IOException {
                index.delete(ids);
            }

            @Override
            public void commit() throws IOException {
                index.commit();
            }

            @Override
            public List<Hit> search(float[] query, int k) throws IOException {
                return exact ? index.searchExact(query, k) : index.search(query, k, ef);
            }

            @Override
            public Optional<IndexedImage> get(String id) throws IOException {
                return index.get(id);
            }

            @Override
            public Map<String, IndexedImage.Stamp> stamps() throws IOException {
                return index.stamps();
            }

            @Override
            public void close() throws IOException {
                index.close();
            }
        };
    }
}
