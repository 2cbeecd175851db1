package dev.irtj.index;

import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.hnsw.HnswGraphProvider;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.util.hnsw.HnswGraph;

import java.io.IOException;
import java.util.Arrays;

/**
 * One segment's HNSW graph and float vectors copied onto the heap, for {@link HnswWalk}: the
 * vectors in one array (row {@code ord} at {@code ord * dims}), each level's neighbour lists in
 * one array (compressed rows), and the ord-to-doc map.
 *
 * <p>Why a copy: Lucene 9.12 reads a neighbour list by seeking in the graph file and decoding
 * its delta-coded vints, and a vector by copying it out of the vectors file, at every visit; the
 * copy reads both once per segment (when a search first meets it) and the walk then only indexes
 * arrays. Memory per segment, on top of Lucene's memory-mapped files: {@code 4 * N * dims}
 * bytes of vectors plus {@code 4 * (2N + links)} for the lists and the ord-to-doc map (at most
 * 2M links a node on level 0, M above): measured 1.73 + 0.42 MB for the demo's 9000 x 48 at
 * M 16 (9 links a node on level 0); 31 MB of vectors for 20k x 384, 1.5 GB for 1M x 384.
 *
 * <p>Only segments of {@link IrtjHnswVectorsFormat} are copied (its scores are irtj's
 * {@link VectorDot}, which the walk reproduces bit for bit); int8-quantized segments and those of
 * other formats get {@code null} from {@link #of} and are searched by Lucene.
 */
final class SegmentGraph {
    final int size;
    final int dims;
    final float[] vectors;
    final int[] ordToDoc;
    final int entryNode;
    /**
     * Per level l: nodes[l] the sorted nodes on it (null for level 0, which holds every node);
     * node nodes[l][r]'s (level 0: node r's) neighbours are neighbours[l][offsets[l][r] ..
     * offsets[l][r + 1]), in the graph file's order.
     */
    final int[][] nodes;
    final int[][] offsets;
    final int[][] neighbours;

    private SegmentGraph(int size, int dims, float[] vectors, int[] ordToDoc, int entryNode, int[][] nodes, int[][] offsets,
                         int[][] neighbours) {
        this.size = size;
        this.dims = dims;
        this.vectors = vectors;
        this.ordToDoc = ordToDoc;
        this.entryNode = entryNode;
        this.nodes = nodes;
        this.offsets = offsets;
        this.neighbours = neighbours;
    }

    int levels() {
        return offsets.length;
    }

    /** The row of node on level (its index into offsets[level]); negative if it is not on that level. */
    int row(int level, int node) {
        if (level == 0) return node;
        return Arrays.binarySearch(nodes[level], node);
    }

    /** Bytes this copy holds on the heap (arrays only). */
    long bytes() {
        long b = 4L * vectors.length + 4L * ordToDoc.length;
        for (int l = 0; l < offsets.length; l++) {
            b += 4L * offsets[l].length + 4L * neighbours[l].length + (nodes[l] == null ? 0 : 4L * nodes[l].length);
        }
        return b;
    }

    /**
     * The copy of {@code field} in a segment, or null where the walk does not apply: not a
     * codec reader, no vectors, not {@link IrtjHnswVectorsFormat} (e.g. int8 quantized), or
     * more floats than one Java array holds.
     */
    static SegmentGraph of(LeafReader reader, String field) throws IOException {
        if (!(reader instanceof CodecReader codec)) return null;
        FieldInfo info = reader.getFieldInfos().fieldInfo(field);
        if (info == null || info.getVectorDimension() == 0) return null;
        if (!IrtjHnswVectorsFormat.NAME.equals(info.getAttribute(PerFieldKnnVectorsFormat.PER_FIELD_FORMAT_KEY))) return null;
        KnnVectorsReader vr = codec.getVectorReader();
        if (vr instanceof PerFieldKnnVectorsFormat.FieldsReader perField) vr = perField.getFieldReader(field);
        if (!(vr instanceof HnswGraphProvider provider)) return null;
        FloatVectorValues values = reader.getFloatVectorValues(field);
        if (values == null) return null;
        int size = values.size(), dims = values.dimension();
        if ((long) size * dims > Integer.MAX_VALUE - 16) return null;
        float[] vectors = new float[size * dims];
        int[] ordToDoc = new int[size];
        int ord = 0;
        for (int doc = values.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = values.nextDoc(), ord++) {
            System.arraycopy(values.vectorValue(), 0, vectors, ord * dims, dims);
            ordToDoc[ord] = doc;
        }
        if (ord != size) throw new IOException("field " + field + " of segment " + reader + " iterated " + ord + " vectors, not " + size);
        HnswGraph graph = provider.getGraph(field);
        if (graph == null || graph.size() != size) {
            throw new IOException("the HNSW graph of " + field + " in segment " + reader + " has " + (graph == null ? "no" : graph.size())
                    + " nodes for " + size + " vectors");
        }
        int levels = size == 0 ? 0 : graph.numLevels();
        int[][] nodes = new int[levels][], offsets = new int[levels][], neighbours = new int[levels][];
        for (int l = 0; l < levels; l++) {
            int[] onLevel;
            if (l == 0) {
                onLevel = null;
            } else {
                HnswGraph.NodesIterator it = graph.getNodesOnLevel(l);
                onLevel = new int[it.size()];
                for (int i = 0; i < onLevel.length; i++) onLevel[i] = it.nextInt();
                Arrays.sort(onLevel);
            }
            int count = onLevel == null ? size : onLevel.length;
            int[] off = new int[count + 1];
            int[] links = new int[Math.max(16, count * 8)];
            int at = 0;
            for (int i = 0; i < count; i++) {
                graph.seek(l, onLevel == null ? i : onLevel[i]);
                for (int nb = graph.nextNeighbor(); nb != DocIdSetIterator.NO_MORE_DOCS; nb = graph.nextNeighbor()) {
                    if (nb < 0 || nb >= size) throw new IOException("the HNSW graph of " + field + " links to node " + nb + " of " + size);
                    if (at == links.length) links = Arrays.copyOf(links, links.length * 2);
                    links[at++] = nb;
                }
                off[i + 1] = at;
            }
            nodes[l] = onLevel;
            offsets[l] = off;
            neighbours[l] = Arrays.copyOf(links, at);
        }
        return new SegmentGraph(size, dims, vectors, ordToDoc, size == 0 ? -1 : graph.entryNode(), nodes, offsets, neighbours);
    }
}
