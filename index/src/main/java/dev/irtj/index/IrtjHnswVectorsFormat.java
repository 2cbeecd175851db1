package dev.irtj.index;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.hnsw.FlatVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99FlatVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsReader;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsWriter;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;

import java.io.IOException;

/**
 * Lucene 9.12's HNSW vectors layout (Lucene99 graph and flat vectors files) written by irtj:
 * the graph is built by {@link HnswBuilder} and written by {@link IrtjHnswVectorsWriter} in
 * Lucene99HnswVectorsFormat's documented layout; the vectors go through Lucene99FlatVectorsFormat's
 * writer; reading is Lucene's {@link Lucene99HnswVectorsReader} with {@link IrtjFlatVectorsScorer},
 * whose dot product is vectorized on JDK 17, where Lucene 9.12's own is scalar (and
 * {@link HnswWalk} walks the graph it reads).
 *
 * <p>Trade-off: the format's SPI name {@value #NAME} is what a segment records, so a segment
 * written with it can be read only by a Lucene 9.12 that has irtj-index on its class path
 * (registered in {@code META-INF/services/org.apache.lucene.codecs.KnnVectorsFormat}); Luke or
 * Solr without that jar refuse it ("unknown KnnVectorsFormat"). The files themselves are
 * Lucene99HnswVectorsFormat's, so a merge (or reindex) with plain Lucene formats converts back.
 * Segments written earlier by {@link Lucene99HnswVectorsFormat} stay readable here, and merges
 * rewrite them in this format; nothing has shipped, so no migration is offered beyond that.
 *
 * <p>M and the beam width matter only when writing; the no-argument constructor (SPI) reads.
 */
public final class IrtjHnswVectorsFormat extends KnnVectorsFormat {
    public static final String NAME = "IrtjHnswVectorsFormat";

    /**
     * Benchmarks: {@code -Dirtj.index.builder=lucene} writes the graph with Lucene's
     * Lucene99HnswVectorsWriter (its HnswGraphBuilder, as documents arrive: irtj's writer before
     * {@link HnswBuilder}), {@code irtj} (the default) with {@link IrtjHnswVectorsWriter}; the
     * files have the same layout either way. Any other value is refused.
     */
    static final boolean LUCENE_BUILDER = luceneBuilder(System.getProperty("irtj.index.builder", "irtj"));

    private static boolean luceneBuilder(String value) {
        if (value.equals("irtj")) return false;
        if (value.equals("lucene")) return true;
        throw new IllegalArgumentException("-Dirtj.index.builder must be irtj or lucene, got '" + value + "'");
    }

    private final int maxConn;
    private final int beamWidth;
    private final FlatVectorsFormat flat = new Lucene99FlatVectorsFormat(IrtjFlatVectorsScorer.INSTANCE);

    /** For SPI (reading): Lucene's default graph settings, unused when reading. */
    public IrtjHnswVectorsFormat() {
        this(Lucene99HnswVectorsFormat.DEFAULT_MAX_CONN, Lucene99HnswVectorsFormat.DEFAULT_BEAM_WIDTH);
    }

    public IrtjHnswVectorsFormat(int maxConn, int beamWidth) {
        super(NAME);
        if (maxConn <= 0 || maxConn > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
            throw new IllegalArgumentException("maxConn must be in 1.." + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN + ", got " + maxConn);
        }
        if (beamWidth <= 0 || beamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
            throw new IllegalArgumentException("beamWidth must be in 1.." + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH + ", got " + beamWidth);
        }
        this.maxConn = maxConn;
        this.beamWidth = beamWidth;
    }

    @Override
    public KnnVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
        // Built on the writer's (or merge's) thread, like Lucene's default of one merge worker.
        if (LUCENE_BUILDER) return new Lucene99HnswVectorsWriter(state, maxConn, beamWidth, flat.fieldsWriter(state), 1, null);
        return new IrtjHnswVectorsWriter(state, maxConn, beamWidth, flat.fieldsWriter(state));
    }

    @Override
    public KnnVectorsReader fieldsReader(SegmentReadState state) throws IOException {
        return new Lucene99HnswVectorsReader(state, flat.fieldsReader(state));
    }

    @Override
    public int getMaxDimensions(String fieldName) {
        return 1024;
    }

    @Override
    public String toString() {
        return NAME + "(maxConn=" + maxConn + ", beamWidth=" + beamWidth + ", flat=" + flat + ")";
    }
}
