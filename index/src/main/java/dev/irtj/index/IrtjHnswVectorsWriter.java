package dev.irtj.index;

import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.codecs.KnnFieldVectorsWriter;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.hnsw.FlatFieldVectorsWriter;
import org.apache.lucene.codecs.hnsw.FlatVectorsWriter;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsReader;
import org.apache.lucene.index.DocsWithFieldSet;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexFileNames;
import org.apache.lucene.index.MergeState;
import org.apache.lucene.index.SegmentWriteState;
import org.apache.lucene.index.Sorter;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.store.IndexOutput;
import org.apache.lucene.util.IOUtils;
import org.apache.lucene.util.packed.DirectMonotonicWriter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a segment's HNSW graphs, built by {@link HnswBuilder}, in the on-disk layout of Lucene
 * 9.12's {@code Lucene99HnswVectorsFormat} (its javadoc), so that Lucene's
 * {@link Lucene99HnswVectorsReader} reads them; the vectors themselves go through the flat
 * vectors writer it is given (Lucene99FlatVectorsFormat's).
 *
 * <p>The layout: {@code .vem} (meta) and {@code .vex} (graph), each with Lucene's index header
 * (codec names {@value #META_CODEC}, {@value #INDEX_CODEC}, version
 * {@link Lucene99HnswVectorsFormat#VERSION_CURRENT}) and footer. Per field, in {@code .vex}:
 * level by level from 0 up, node by node in ord order, {@code vint} link count then the links
 * ascending as {@code vint} deltas. In {@code .vem}: field number, encoding and similarity
 * ordinals ({@code int}), the field's {@code .vex} offset and length ({@code vlong}),
 * dimension ({@code vint}), vector count ({@code int}), M and the level count ({@code vint});
 * for each level above 0 its node count and its nodes as {@code vint} deltas; then where the
 * byte offsets of the nodes' lists start in {@code .vex} ({@code long}), the
 * DirectMonotonic block shift (16) and meta of those offsets (all levels, in the order written,
 * each relative to the field's start), and their length in {@code .vex} ({@code long}).
 * {@code -1} ends the fields.
 *
 * <p>When: at flush over the buffered vectors (not as documents arrive: the builder wants them
 * all in one array), at merge over the merged live vectors. The graph's memory, about
 * {@code 8 * 2M} bytes a node on level 0, is transient and not counted in
 * {@link #ramBytesUsed} (the buffered vectors are).
 */
final class IrtjHnswVectorsWriter extends KnnVectorsWriter {
    static final String META_CODEC = "Lucene99HnswVectorsFormatMeta";
    static final String INDEX_CODEC = "Lucene99HnswVectorsFormatIndex";
    static final String META_EXTENSION = "vem";
    static final String INDEX_EXTENSION = "vex";
    private static final int OFFSETS_BLOCK_SHIFT = 16;
    /** The level draws' seed: fixed, so that a segment's graph depends on its vectors only. */
    static final long SEED = 42;

    private final SegmentWriteState state;
    private final int m;
    private final int beamWidth;
    private final FlatVectorsWriter flat;
    private final IndexOutput meta;
    private final IndexOutput index;
    private final List<FieldWriter> fields = new ArrayList<>();
    private boolean finished;

    IrtjHnswVectorsWriter(SegmentWriteState state, int m, int beamWidth, FlatVectorsWriter flat) throws IOException {
        this.state = state;
        this.m = m;
        this.beamWidth = beamWidth;
        this.flat = flat;
        IndexOutput metaOut = null, indexOut = null;
        boolean ok = false;
        try {
            metaOut = state.directory.createOutput(fileName(META_EXTENSION), state.context);
            indexOut = state.directory.createOutput(fileName(INDEX_EXTENSION), state.context);
            CodecUtil.writeIndexHeader(metaOut, META_CODEC, Lucene99HnswVectorsFormat.VERSION_CURRENT, state.segmentInfo.getId(),
                    state.segmentSuffix);
            CodecUtil.writeIndexHeader(indexOut, INDEX_CODEC, Lucene99HnswVectorsFormat.VERSION_CURRENT, state.segmentInfo.getId(),
                    state.segmentSuffix);
            ok = true;
        } finally {
            if (!ok) IOUtils.closeWhileHandlingException(metaOut, indexOut, flat);
        }
        this.meta = metaOut;
        this.index = indexOut;
    }

    private String fileName(String extension) {
        return IndexFileNames.segmentFileName(state.segmentInfo.name, state.segmentSuffix, extension);
    }

    private static void checkSupported(FieldInfo info) {
        if (info.getVectorEncoding() != VectorEncoding.FLOAT32 || info.getVectorSimilarityFunction() != VectorSimilarityFunction.DOT_PRODUCT) {
            throw new IllegalArgumentException(IrtjHnswVectorsFormat.NAME + " builds graphs of FLOAT32 vectors under DOT_PRODUCT only; field "
                    + info.name + " is " + info.getVectorEncoding() + " under " + info.getVectorSimilarityFunction());
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public KnnFieldVectorsWriter<?> addField(FieldInfo info) throws IOException {
        checkSupported(info);
        FieldWriter w = new FieldWriter(info, (FlatFieldVectorsWriter<float[]>) flat.addField(info));
        fields.add(w);
        return w;
    }

    @Override
    public void flush(int maxDoc, Sorter.DocMap sortMap) throws IOException {
        flat.flush(maxDoc, sortMap);
        for (FieldWriter f : fields) {
            List<float[]> buffered = f.vectors.getVectors();
            int n = buffered.size(), dims = f.info.getVectorDimension();
            int[] order = null;
            if (sortMap != null) {
                // The flat writer stores the vectors in the sorted docs' order: build over that order.
                order = new int[n];
                KnnVectorsWriter.mapOldOrdToNewOrd(f.vectors.getDocsWithFieldSet(), sortMap, null, order, new DocsWithFieldSet());
            }
            float[] all = new float[Math.multiplyExact(n, dims)];
            for (int i = 0; i < n; i++) System.arraycopy(buffered.get(order == null ? i : order[i]), 0, all, i * dims, dims);
            writeField(f.info, all, n);
        }
    }

    @Override
    public void mergeOneField(FieldInfo info, MergeState mergeState) throws IOException {
        checkSupported(info);
        flat.mergeOneField(info, mergeState);
        FloatVectorValues merged = KnnVectorsWriter.MergedVectorValues.mergeFloatVectorValues(info, mergeState);
        int dims = info.getVectorDimension();
        float[] all = new float[Math.max(16, dims * 1024)];
        int n = 0;
        for (int doc = merged.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = merged.nextDoc(), n++) {
            if ((long) (n + 1) * dims > all.length) {
                long grown = Math.max((long) (n + 1) * dims, (long) all.length * 3 / 2);
                if (grown > Integer.MAX_VALUE - 16) {
                    throw new IOException("merging field " + info.name + ": more than " + n + " vectors of " + dims
                            + " floats do not fit one Java array for " + IrtjHnswVectorsFormat.NAME + "'s graph builder");
                }
                all = Arrays.copyOf(all, (int) grown);
            }
            System.arraycopy(merged.vectorValue(), 0, all, n * dims, dims);
        }
        writeField(info, all, n);
    }

    /** Builds the graph of n vectors and writes it to .vex and its entry to .vem. */
    private void writeField(FieldInfo info, float[] vectors, int n) throws IOException {
        int dims = info.getVectorDimension();
        long start = index.getFilePointer();
        HnswBuilder graph = n == 0 ? null : HnswBuilder.build(vectors, n, dims, m, beamWidth, SEED);
        int levels = graph == null ? 0 : graph.levels();
        int[][] nodes = new int[levels][];
        long[][] listBytes = new long[levels][];
        int[] scratch = new int[2 * m];
        for (int l = 0; l < levels; l++) {
            nodes[l] = graph.nodesOnLevel(l);
            listBytes[l] = new long[nodes[l].length];
            for (int i = 0; i < nodes[l].length; i++) {
                long at = index.getFilePointer();
                int[] nbs = graph.neighbours(l, nodes[l][i]);
                System.arraycopy(nbs, 0, scratch, 0, nbs.length);
                Arrays.sort(scratch, 0, nbs.length);
                index.writeVInt(nbs.length);
                int previous = 0;
                for (int j = 0; j < nbs.length; j++) {
                    index.writeVInt(scratch[j] - previous);
                    previous = scratch[j];
                }
                listBytes[l][i] = index.getFilePointer() - at;
            }
        }
        if (levels > 0 && graph.entryNode() != nodes[levels - 1][0]) {
            // Lucene's reader takes the lowest node of the top level as the entry.
            throw new IllegalStateException("HNSW entry node " + graph.entryNode() + " is not the first of the top level, " + nodes[levels - 1][0]);
        }
        long length = index.getFilePointer() - start;

        meta.writeInt(info.number);
        meta.writeInt(info.getVectorEncoding().ordinal());
        meta.writeInt(Lucene99HnswVectorsReader.SIMILARITY_FUNCTIONS.indexOf(info.getVectorSimilarityFunction()));
        meta.writeVLong(start);
        meta.writeVLong(length);
        meta.writeVInt(dims);
        meta.writeInt(n);
        meta.writeVInt(m);
        meta.writeVInt(levels);
        if (levels == 0) return;
        long offsets = 0;
        for (int l = 1; l < levels; l++) {
            meta.writeVInt(nodes[l].length);
            int previous = 0;
            for (int node : nodes[l]) {
                meta.writeVInt(node - previous);
                previous = node;
            }
        }
        for (int l = 0; l < levels; l++) offsets += nodes[l].length;
        long offsetsStart = index.getFilePointer();
        meta.writeLong(offsetsStart);
        meta.writeVInt(OFFSETS_BLOCK_SHIFT);
        DirectMonotonicWriter offsetsWriter = DirectMonotonicWriter.getInstance(meta, index, offsets, OFFSETS_BLOCK_SHIFT);
        long at = 0;
        for (int l = 0; l < levels; l++) {
            for (long bytes : listBytes[l]) {
                offsetsWriter.add(at);
                at += bytes;
            }
        }
        offsetsWriter.finish();
        meta.writeLong(index.getFilePointer() - offsetsStart);
    }

    @Override
    public void finish() throws IOException {
        if (finished) throw new IllegalStateException("already finished");
        finished = true;
        flat.finish();
        meta.writeInt(-1);
        CodecUtil.writeFooter(meta);
        CodecUtil.writeFooter(index);
    }

    @Override
    public long ramBytesUsed() {
        long total = 64;
        for (FieldWriter f : fields) total += f.ramBytesUsed();
        return total;
    }

    @Override
    public void close() throws IOException {
        IOUtils.close(meta, index, flat);
    }

    /** Buffers a field's vectors in the flat writer's field writer (which stores them at flush). */
    private static final class FieldWriter extends KnnFieldVectorsWriter<float[]> {
        final FieldInfo info;
        final FlatFieldVectorsWriter<float[]> vectors;

        FieldWriter(FieldInfo info, FlatFieldVectorsWriter<float[]> vectors) {
            this.info = info;
            this.vectors = vectors;
        }

        @Override
        public void addValue(int doc, float[] value) throws IOException {
            vectors.addValue(doc, value);
        }

        @Override
        public float[] copyValue(float[] value) {
            return vectors.copyValue(value);
        }

        @Override
        public long ramBytesUsed() {
            return vectors.ramBytesUsed();
        }
    }
}
