package dev.irtj.index.solr;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexMismatchException;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;
import dev.irtj.retrieval.ImageDescriber;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.solr.client.solrj.SolrQuery;
import org.apache.solr.client.solrj.SolrServerException;
import org.apache.solr.client.solrj.impl.ZkClientClusterStateProvider;
import org.apache.solr.client.solrj.request.CollectionAdminRequest;
import org.apache.solr.client.solrj.request.ConfigSetAdminRequest;
import org.apache.solr.client.solrj.request.UpdateRequest;
import org.apache.solr.client.solrj.response.QueryResponse;
import org.apache.solr.common.SolrDocument;
import org.apache.solr.common.SolrDocumentList;
import org.apache.solr.common.SolrInputDocument;
import org.apache.solr.common.cloud.DocCollection;
import org.apache.solr.common.cloud.Slice;
import org.apache.solr.common.params.CursorMarkParams;
import org.apache.solr.common.util.ContentStreamBase;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A {@link VectorIndex} on a SolrCloud collection: one Solr document per image, its descriptor in
 * a {@code DenseVectorField} (HNSW, dot product), searched with {@code {!knn}} on every shard and
 * merged by Solr.
 *
 * <p><b>What describer filled the collection</b> is recorded in one reserved document (id
 * {@link #INFO_ID}, {@code kind:info}, no vector), not in collection properties: a document is
 * read and written through the same HTTP routing as the images, whether the index was opened by
 * ZooKeeper address or by Solr URL (collection properties live in ZooKeeper, and SolrJ 9.10
 * reads them through a ZooKeeper connection, which a client opened by Solr URL does not have),
 * it is replicated and recovered with the shard that holds it, and it is committed before the
 * first image, so no collection holds vectors without their fingerprint.
 * Having no vector, it can never be a {@code {!knn}} hit; {@link #stamps()} and the count
 * exclude it by {@code -kind:info}.
 *
 * <p><b>Commits</b> are explicit hard commits that wait for the new searcher: when
 * {@link #commit()} returns, every earlier write is on disk in every replica of every shard
 * (SolrCloud sends the commit to all of them) and visible to searches, which is what the
 * {@link VectorIndex} contract promises; {@code commitWithin} would only promise "soon". (The
 * configset's autoCommit flushes segments without opening a searcher, to bound the transaction
 * log during long uploads.)
 *
 * <p><b>Search</b> asks each shard for its best {@code max(k, efSearch)} vectors (Lucene's
 * HNSW search explores a beam as wide as that topK, so a wider one buys recall), and Solr merges
 * the shards' lists by score, then id. Scores are returned as the dot product of the query and
 * the image's descriptor, the cosine similarity ({@code 2 * score - 1} of Lucene's
 * {@code (1 + dot) / 2}).
 *
 * <p>All HTTP goes through {@link JdkCloudSolrClient} on {@code java.net.http}: no Jetty class is
 * used at run time (the {@code cli} jar holds Jetty 12 for {@code irt serve}).
 */
public final class SolrIndex implements VectorIndex {
    /** Id of the document that records the describer; refused as an image id. */
    public static final String INFO_ID = "_irtj_info_";

    /** Lucene's defaults, used when a collection is created without HNSW settings. */
    public static final int DEFAULT_HNSW_MAX_CONNECTIONS = 16;
    public static final int DEFAULT_HNSW_BEAM_WIDTH = 100;
    /** Per-shard topK floor of a search (see the class comment). */
    public static final int DEFAULT_EF_SEARCH = 100;

    private static final String CONFIGSET_RESOURCES = "configset/";
    private static final String[] CONFIGSET_FILES = {"solrconfig.xml", "schema.xml"};
    private static final String IMAGE_FIELDS = "id,path,label,bytes,modified,width,height,metadata";
    private static final String NOT_INFO = "-kind:info";
    private static final int UPDATE_BATCH = 500;
    private static final int PAGE = 5000;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How far from 1 the norm of a stored vector may be (descriptors are L2-normalized in F32). */
    private static final double NORM_TOLERANCE = 1e-3;

    private final JdkCloudSolrClient client;
    private final String where;
    private final String collection;
    private final Recorded recorded;
    private final int efSearch;

    /**
     * How to open (and, when asked, create) the collection.
     *
     * @param fingerprint the describer's fingerprint, or null to take whatever the collection
     *     records (searching and serving, where the describer is reopened from {@link #describerSource()})
     * @param describer the describer's one-line description (with a fingerprint)
     * @param source the describer's {@link ImageDescriber#source()} JSON (with a fingerprint)
     * @param dims the describer's descriptor length (0 without a fingerprint)
     * @param create create the collection when it does not exist (needs a describer)
     * @param shards shards of a created collection; 0 = 1 when creating, and any when the
     *     collection exists (a non-zero value must match an existing collection)
     * @param replicas replicas per shard, the same way (0 = 1 when creating)
     * @param hnswMaxConnections HNSW M of a created collection, the same way (0 = 16)
     * @param hnswBeamWidth HNSW beam width at construction, the same way (0 = 100)
     * @param efSearch per-shard topK floor of every search (at least 1)
     * @param connectTimeout limit to reach ZooKeeper or a Solr node
     */
    public record Options(String fingerprint, String describer, String source, int dims,
                          boolean create, int shards, int replicas, int hnswMaxConnections, int hnswBeamWidth,
                          int efSearch, Duration connectTimeout) {
        public Options {
            if (fingerprint != null) {
                Objects.requireNonNull(describer, "describer");
                Objects.requireNonNull(source, "source");
                if (dims < 1) throw new IllegalArgumentException("dims must be >= 1 with a fingerprint, got " + dims);
            } else if (dims != 0 || describer != null || source != null) {
                throw new IllegalArgumentException("describer, source and dims come with a fingerprint (Options.of(describer))");
            }
            if (create && fingerprint == null) {
                throw new IllegalArgumentException("creating a collection needs the describer that fills it (Options.of(describer))");
            }
            nonNegative("shards", shards);
            nonNegative("replicas", replicas);
            nonNegative("hnswMaxConnections", hnswMaxConnections);
            nonNegative("hnswBeamWidth", hnswBeamWidth);
            // Lucene's limits, checked here so that a bad value fails before anything is uploaded.
            if (hnswMaxConnections > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
                throw new IllegalArgumentException("hnswMaxConnections must be <= " + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN + ", got " + hnswMaxConnections);
            }
            if (hnswBeamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
                throw new IllegalArgumentException("hnswBeamWidth must be <= " + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH + ", got " + hnswBeamWidth);
            }
            if (efSearch < 1) throw new IllegalArgumentException("efSearch must be >= 1, got " + efSearch);
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive, got " + connectTimeout);
            }
        }

        /** For indexing with this describer: its vectors only; the collection must exist. */
        public static Options of(ImageDescriber describer) {
            return new Options(describer.fingerprint(), describer.describe(), describer.source(), describer.dims(),
                    false, 0, 0, 0, 0, DEFAULT_EF_SEARCH, Duration.ofSeconds(15));
        }

        /** For indexing with the describer of this identity (e.g. the one a LuceneIndex records). */
        public static Options of(LuceneIndex.Identity describer) {
            return new Options(describer.fingerprint(), describer.description(), describer.source(), describer.dims(),
                    false, 0, 0, 0, 0, DEFAULT_EF_SEARCH, Duration.ofSeconds(15));
        }

        /** For searching an existing collection with whatever describer it records. */
        public static Options existing() {
            return new Options(null, null, null, 0, false, 0, 0, 0, 0, DEFAULT_EF_SEARCH, Duration.ofSeconds(15));
        }

        /**
         * Also create the collection when missing, with these shards and replicas per shard; 0
         * for either means 1 when creating and whatever an existing collection has (a non-zero
         * value must match it).
         */
        public Options creatingIfMissing(int shards, int replicas) {
            return new Options(fingerprint, describer, source, dims, true, shards, replicas, hnswMaxConnections, hnswBeamWidth,
                    efSearch, connectTimeout);
        }

        /**
         * HNSW graph settings of a created collection; 0 for either means Lucene's default (16,
         * 100) when creating and whatever an existing collection has (a non-zero value must match
         * it).
         */
        public Options withHnsw(int maxConnections, int beamWidth) {
            return new Options(fingerprint, describer, source, dims, create, shards, replicas, maxConnections, beamWidth,
                    efSearch, connectTimeout);
        }

        public Options withEfSearch(int efSearch) {
            return new Options(fingerprint, describer, source, dims, create, shards, replicas, hnswMaxConnections, hnswBeamWidth,
                    efSearch, connectTimeout);
        }

        public Options withConnectTimeout(Duration connectTimeout) {
            return new Options(fingerprint, describer, source, dims, create, shards, replicas, hnswMaxConnections, hnswBeamWidth,
                    efSearch, connectTimeout);
        }

        private static void nonNegative(String name, int value) {
            if (value < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }

    }

    /** What the info document records. */
    private record Recorded(String fingerprint, String describer, String source, int dims, int hnswM, int hnswBeam) {
    }

    private SolrIndex(JdkCloudSolrClient client, String where, String collection, Recorded recorded, int efSearch) {
        this.client = client;
        this.where = where;
        this.collection = collection;
        this.recorded = recorded;
        this.efSearch = efSearch;
    }

    /**
     * Opens a SolrCloud collection.
     *
     * @param zkHostsOrSolrUrl ZooKeeper hosts with an optional chroot
     *     ({@code zk1:2181,zk2:2181/solr}), or comma-separated Solr base URLs
     *     ({@code http://solr1:8983/solr,http://solr2:8983/solr})
     * @param collection the collection's name
     * @throws IOException with one line naming what failed: an address that does not answer, a
     *     missing collection (and what creates it), a collection of another describer or layout
     */
    public static SolrIndex open(String zkHostsOrSolrUrl, String collection, Options options) throws IOException {
        Objects.requireNonNull(zkHostsOrSolrUrl, "zkHostsOrSolrUrl");
        Objects.requireNonNull(collection, "collection");
        Objects.requireNonNull(options, "options");
        if (!collection.matches("[A-Za-z0-9_][A-Za-z0-9_.\\-]*")) {
            throw new IllegalArgumentException("collection name '" + collection
                    + "' is not a valid SolrCloud name (letters, digits, '_', '.', '-'; not starting with '.' or '-')");
        }
        String where = describeAddress(zkHostsOrSolrUrl);
        JdkCloudSolrClient client = connect(zkHostsOrSolrUrl.trim(), where, options.connectTimeout());
        try {
            Recorded recorded = openOrCreate(client, zkHostsOrSolrUrl.trim(), where, collection, options);
            return new SolrIndex(client, where, collection, recorded, options.efSearch());
        } catch (IOException | RuntimeException | Error e) {
            client.close();
            throw e;
        }
    }

    private static String describeAddress(String address) {
        return isSolrUrls(address) ? "Solr " + address.trim() : "ZooKeeper " + address.trim();
    }

    private static boolean isSolrUrls(String address) {
        String a = address.trim().toLowerCase(java.util.Locale.ROOT);
        return a.startsWith("http://") || a.startsWith("https://");
    }

    private static JdkCloudSolrClient connect(String address, String where, Duration timeout) throws IOException {
        long ms = timeout.toMillis();
        if (isSolrUrls(address)) {
            List<String> urls = new ArrayList<>();
            for (String u : address.split(",")) {
                String url = u.trim();
                if (url.isEmpty()) continue;
                if (!isSolrUrls(url)) {
                    throw new IllegalArgumentException("'" + url + "' in " + address + " is not an http(s) Solr URL (use only URLs, or only ZooKeeper hosts)");
                }
                try {
                    URI.create(url);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("'" + url + "' is not a valid Solr URL: " + e.getMessage(), e);
                }
                urls.add(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            }
            JdkCloudSolrClient client = null;
            try {
                client = JdkCloudSolrClient.overHttp(urls, ms);
                // The provider may have started without any node answering; ask now, so that an
                // address that does not answer fails here, naming itself.
                client.getClusterStateProvider().getLiveNodes();
                return client;
            } catch (Exception e) {
                if (client != null) closeQuietly(client, e);
                // SolrJ's own line for this case carries no cause and advice meant for its users.
                String why = e.getCause() == null && e.getMessage() != null && e.getMessage().startsWith("Failed fetching live_nodes")
                        ? "none of them answered (live_nodes)" : rootMessage(e);
                throw new IOException("cannot reach SolrCloud at " + String.join(", ", urls)
                        + ": " + why + " (expected Solr base URLs such as http://host:8983/solr, of nodes running in SolrCloud mode)", e);
            }
        }
        int slash = address.indexOf('/');
        String hosts = slash < 0 ? address : address.substring(0, slash);
        String chroot = slash < 0 ? null : address.substring(slash);
        ZkClientClusterStateProvider zk = new ZkClientClusterStateProvider(Arrays.asList(hosts.split(",")), chroot, false);
        zk.setZkConnectTimeout((int) Math.min(Integer.MAX_VALUE, ms));
        zk.setZkClientTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(ms, 10_000)));
        JdkCloudSolrClient client = JdkCloudSolrClient.overZooKeeper(zk, ms);
        try {
            client.getClusterStateProvider().connect();
            return client;
        } catch (RuntimeException e) {
            closeQuietly(client, e);
            throw new IOException("cannot reach " + where + " within " + ms + " ms: " + rootMessage(e)
                    + " (expected ZooKeeper host:port[,host:port][/chroot] of a SolrCloud, or Solr URLs http://host:8983/solr)", e);
        }
    }

    private static Recorded openOrCreate(JdkCloudSolrClient client, String address, String where, String collection, Options options)
            throws IOException {
        boolean exists = collectionExists(client, where, collection);
        if (!exists) {
            if (!options.create()) {
                throw new IOException("no SolrCloud collection '" + collection + "' at " + where
                        + "; irt index --solr " + address + " --collection " + collection + " [--shards N --replicas N] creates it"
                        + " (in Java: SolrIndex.Options.creatingIfMissing(shards, replicas))");
            }
            create(client, where, collection, options);
        }
        Recorded recorded = readInfo(client, where, collection);
        if (recorded == null) {
            throw new IndexMismatchException("SolrCloud collection '" + collection + "' at " + where
                    + " has no irtj info document (" + INFO_ID + "): it was not made by irtj, or its creation was interrupted"
                    + " (then delete it and rerun); choose another --collection");
        }
        checkDescriber(collection, where, recorded, options);
        if (exists) checkLayout(client, where, collection, recorded, options);
        return recorded;
    }

    private static boolean collectionExists(JdkCloudSolrClient client, String where, String collection) throws IOException {
        try {
            return CollectionAdminRequest.listCollections(client).contains(collection);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("cannot list the collections at " + where + ": " + rootMessage(e), e);
        }
    }

    private static void create(JdkCloudSolrClient client, String where, String collection, Options options) throws IOException {
        int shards = options.shards() == 0 ? 1 : options.shards();
        int replicas = options.replicas() == 0 ? 1 : options.replicas();
        int m = options.hnswMaxConnections() == 0 ? DEFAULT_HNSW_MAX_CONNECTIONS : options.hnswMaxConnections();
        int beam = options.hnswBeamWidth() == 0 ? DEFAULT_HNSW_BEAM_WIDTH : options.hnswBeamWidth();
        String configSet = "irtj_" + collection;
        try {
            new ConfigSetAdminRequest.Upload()
                    .setConfigSetName(configSet)
                    .setOverwrite(true) // what an interrupted creation left behind is replaced
                    .setUploadStream(new ContentStreamBase.ByteArrayStream(configSetZip(options.dims(), m, beam), configSet + ".zip", "application/zip"))
                    .process(client);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("cannot upload configset '" + configSet + "' to " + where + ": " + rootMessage(e), e);
        }
        try {
            CollectionAdminRequest.Create request = CollectionAdminRequest.createCollection(collection, configSet, shards, replicas);
            waitForActiveReplicas(request);
            request.process(client);
        } catch (SolrServerException | RuntimeException e) {
            // Another process may have created it meanwhile: then open what it made.
            if (collectionExists(client, where, collection)) return;
            throw new IOException("cannot create SolrCloud collection '" + collection + "' (" + shards + " shards × " + replicas
                    + " replicas) at " + where + ": " + rootMessage(e), e);
        }
        SolrInputDocument info = new SolrInputDocument();
        info.setField("id", INFO_ID);
        info.setField("kind", "info");
        info.setField("fingerprint", options.fingerprint());
        info.setField("describer", options.describer());
        info.setField("source", options.source());
        info.setField("dims", options.dims());
        info.setField("hnsw_m", m);
        info.setField("hnsw_beam", beam);
        try {
            new UpdateRequest().add(info).process(client, collection);
            client.commit(collection, true, true);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("cannot record the describer in new collection '" + collection + "' at " + where + ": " + rootMessage(e), e);
        }
    }

    /**
     * CREATE returns only once every replica is active, so that the info document and the first
     * images find their shard leaders. SolrJ 9.10 deprecates the setter because waiting is to
     * become the server's default; until a release makes it so, it is asked for.
     */
    @SuppressWarnings("deprecation")
    private static void waitForActiveReplicas(CollectionAdminRequest.Create request) {
        request.setWaitForFinalState(true);
    }

    /** The shipped configset with this collection's vector length and HNSW settings, zipped. */
    static byte[] configSetZip(int dims, int m, int beam) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String name : CONFIGSET_FILES) {
                String text;
                try (InputStream in = SolrIndex.class.getResourceAsStream(CONFIGSET_RESOURCES + name)) {
                    if (in == null) throw new IllegalStateException("configset file " + name + " missing from the irtj-solr jar");
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                text = text.replace("@DIMS@", Integer.toString(dims))
                        .replace("@M@", Integer.toString(m))
                        .replace("@BEAM@", Integer.toString(beam));
                zip.putNextEntry(new ZipEntry(name));
                zip.write(text.getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static Recorded readInfo(JdkCloudSolrClient client, String where, String collection) throws IOException {
        SolrDocument doc;
        try {
            // Real-time get: answered from the transaction log as well, so it does not depend on
            // which searcher a replica has open.
            doc = client.getById(collection, INFO_ID);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("cannot read the info document of collection '" + collection + "' at " + where + ": " + rootMessage(e), e);
        }
        if (doc == null) return null;
        return new Recorded((String) doc.getFirstValue("fingerprint"), (String) doc.getFirstValue("describer"),
                (String) doc.getFirstValue("source"), intField(doc, "dims"), intField(doc, "hnsw_m"), intField(doc, "hnsw_beam"));
    }

    private static void checkDescriber(String collection, String where, Recorded recorded, Options options) throws IOException {
        if (options.fingerprint() == null) return;
        if (!recorded.fingerprint().equals(options.fingerprint()) || recorded.dims() != options.dims()) {
            throw new IndexMismatchException("SolrCloud collection '" + collection + "' at " + where + " holds descriptors of another describer: it has "
                    + recorded.describer() + " (fingerprint " + recorded.fingerprint() + ", " + recorded.dims() + " dims), this one is "
                    + options.describer() + " (fingerprint " + options.fingerprint() + ", " + options.dims() + " dims); use another --collection or the same model");
        }
    }

    private static void checkLayout(JdkCloudSolrClient client, String where, String collection, Recorded recorded, Options options) throws IOException {
        List<String> differences = new ArrayList<>();
        if (options.shards() != 0 || options.replicas() != 0) {
            DocCollection state = client.getClusterStateProvider().getCollection(collection);
            Collection<Slice> slices = state.getActiveSlices();
            if (options.shards() != 0 && slices.size() != options.shards()) {
                differences.add("shards " + slices.size() + ", not " + options.shards());
            }
            if (options.replicas() != 0) {
                for (Slice slice : slices) {
                    if (slice.getReplicas().size() != options.replicas()) {
                        differences.add("replicas of " + slice.getName() + " " + slice.getReplicas().size() + ", not " + options.replicas());
                        break;
                    }
                }
            }
        }
        if (options.hnswMaxConnections() != 0 && options.hnswMaxConnections() != recorded.hnswM()) {
            differences.add("HNSW M " + recorded.hnswM() + ", not " + options.hnswMaxConnections());
        }
        if (options.hnswBeamWidth() != 0 && options.hnswBeamWidth() != recorded.hnswBeam()) {
            differences.add("HNSW beam width " + recorded.hnswBeam() + ", not " + options.hnswBeamWidth());
        }
        if (!differences.isEmpty()) {
            throw new IOException("SolrCloud collection '" + collection + "' at " + where + " exists with another layout: "
                    + String.join(", ", differences) + " (its layout is fixed at creation: leave those options out, or use another --collection)");
        }
    }

    /** The recorded {@link ImageDescriber#source()} JSON, to reopen the describer that filled the collection. */
    @Override
    public String describerSource() {
        return recorded.source();
    }

    /** Where the index is: the address it was opened with and the collection. */
    @Override
    public String toString() {
        return "SolrCloud collection '" + collection + "' at " + where;
    }

    @Override
    public IndexInfo info() throws IOException {
        SolrQuery q = new SolrQuery("*:*").addFilterQuery(NOT_INFO).setRows(0);
        long count = query(q, "count the images").getResults().getNumFound();
        return new IndexInfo(recorded.fingerprint(), recorded.describer(), recorded.dims(), count);
    }

    @Override
    public void upsert(Collection<IndexedImage> images) throws IOException {
        List<SolrInputDocument> batch = new ArrayList<>(Math.min(UPDATE_BATCH, images.size()));
        for (IndexedImage image : images) {
            batch.add(document(image));
            if (batch.size() == UPDATE_BATCH) {
                send(new UpdateRequest().add(batch), "add images");
                batch.clear();
            }
        }
        if (!batch.isEmpty()) send(new UpdateRequest().add(batch), "add images");
    }

    private SolrInputDocument document(IndexedImage image) {
        if (INFO_ID.equals(image.id())) {
            throw new IllegalArgumentException("image id " + INFO_ID + " is reserved for the index's info document; rename the file");
        }
        float[] v = image.vector();
        if (v == null) throw new IllegalArgumentException("image " + image.id() + " has no vector");
        if (v.length != recorded.dims()) {
            throw new IllegalArgumentException("image " + image.id() + " has a " + v.length + "-dim vector, the collection holds "
                    + recorded.dims() + "-dim ones (" + recorded.describer() + ")");
        }
        List<Float> vector = new ArrayList<>(v.length);
        double sq = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) throw new IllegalArgumentException("image " + image.id() + " has a non-finite vector value " + x);
            sq += (double) x * x;
            vector.add(x);
        }
        // Lucene's dot_product is the cosine only on unit vectors; the same tolerance as LuceneIndex.
        if (Math.abs(Math.sqrt(sq) - 1) > NORM_TOLERANCE) {
            throw new IllegalArgumentException("image " + image.id() + " has a vector of norm " + Math.sqrt(sq)
                    + "; descriptors must be L2-normalized (dot product = cosine)");
        }
        SolrInputDocument doc = new SolrInputDocument();
        doc.setField("id", image.id());
        doc.setField("path", image.path());
        if (image.label() != null) doc.setField("label", image.label());
        doc.setField("bytes", image.bytes());
        doc.setField("modified", image.modified());
        doc.setField("width", image.width());
        doc.setField("height", image.height());
        try {
            doc.setField("metadata", JSON.writeValueAsString(image.metadata()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("metadata of " + image.id() + " cannot be written as JSON", e);
        }
        doc.setField("vector", vector);
        return doc;
    }

    @Override
    public void delete(Collection<String> ids) throws IOException {
        List<String> images = new ArrayList<>(ids.size());
        for (String id : ids) {
            // Not an image id: "unknown ids are ignored", and the info document must stay.
            if (!INFO_ID.equals(id)) images.add(id);
        }
        for (int from = 0; from < images.size(); from += UPDATE_BATCH) {
            send(new UpdateRequest().deleteById(images.subList(from, Math.min(images.size(), from + UPDATE_BATCH))), "delete images");
        }
    }

    @Override
    public void commit() throws IOException {
        try {
            client.commit(collection, true, true);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("commit to " + this + " failed: " + rootMessage(e), e);
        }
    }

    @Override
    public List<Hit> search(float[] query, int k) throws IOException {
        Objects.requireNonNull(query, "query");
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        if (query.length != recorded.dims()) {
            throw new IllegalArgumentException("the query has " + query.length + " dims, " + this + " holds " + recorded.dims()
                    + "-dim descriptors (" + recorded.describer() + ")");
        }
        StringBuilder q = new StringBuilder(32 + query.length * 12);
        q.append("{!knn f=vector topK=").append(Math.max(k, efSearch)).append("}[");
        for (int i = 0; i < query.length; i++) {
            if (!Float.isFinite(query[i])) throw new IllegalArgumentException("query value " + i + " is " + query[i]);
            if (i > 0) q.append(',');
            q.append(query[i]);
        }
        q.append(']');
        SolrQuery solrQuery = new SolrQuery(q.toString())
                .setFields(IMAGE_FIELDS + ",score")
                .setRows(k)
                .addSort("score", SolrQuery.ORDER.desc)
                .addSort("id", SolrQuery.ORDER.asc);
        SolrDocumentList docs = query(solrQuery, "search").getResults();
        List<Hit> hits = new ArrayList<>(docs.size());
        for (SolrDocument doc : docs) {
            float score = ((Number) doc.getFirstValue("score")).floatValue();
            hits.add(new Hit(image(doc, null), 2 * score - 1));
        }
        return hits;
    }

    @Override
    public Optional<IndexedImage> get(String id) throws IOException {
        Objects.requireNonNull(id, "id");
        if (INFO_ID.equals(id)) return Optional.empty();
        // A term query on the committed state, like search and stamps (a real-time get would
        // also see uncommitted writes).
        SolrQuery q = new SolrQuery("{!term f=id v=$qid}").setFields(IMAGE_FIELDS + ",vector").setRows(1);
        q.set("qid", id);
        SolrDocumentList docs = query(q, "get " + id).getResults();
        if (docs.isEmpty()) return Optional.empty();
        SolrDocument doc = docs.get(0);
        Collection<Object> values = doc.getFieldValues("vector");
        float[] vector = new float[values.size()];
        int i = 0;
        for (Object x : values) vector[i++] = ((Number) x).floatValue();
        return Optional.of(image(doc, vector));
    }

    @Override
    public Map<String, IndexedImage.Stamp> stamps() throws IOException {
        return stamps(PAGE);
    }

    /** {@link #stamps()} fetched {@code pageSize} documents at a time (tests page with small ones). */
    Map<String, IndexedImage.Stamp> stamps(int pageSize) throws IOException {
        Map<String, IndexedImage.Stamp> stamps = new HashMap<>();
        String cursor = CursorMarkParams.CURSOR_MARK_START;
        while (true) {
            SolrQuery q = new SolrQuery("*:*").addFilterQuery(NOT_INFO).setFields("id,path,bytes,modified")
                    .setRows(pageSize).addSort("id", SolrQuery.ORDER.asc);
            q.set(CursorMarkParams.CURSOR_MARK_PARAM, cursor);
            QueryResponse rsp = query(q, "list the images");
            for (SolrDocument doc : rsp.getResults()) {
                stamps.put((String) doc.getFirstValue("id"), new IndexedImage.Stamp((String) doc.getFirstValue("path"),
                        longField(doc, "bytes"), longField(doc, "modified")));
            }
            String next = rsp.getNextCursorMark();
            if (next == null || next.equals(cursor)) return stamps;
            cursor = next;
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
    }

    private QueryResponse query(SolrQuery q, String what) throws IOException {
        try {
            return client.query(collection, q);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("cannot " + what + " in " + this + ": " + rootMessage(e), e);
        }
    }

    private void send(UpdateRequest request, String what) throws IOException {
        try {
            request.process(client, collection);
        } catch (SolrServerException | RuntimeException e) {
            throw new IOException("cannot " + what + " in " + this + ": " + rootMessage(e), e);
        }
    }

    private static IndexedImage image(SolrDocument doc, float[] vector) throws IOException {
        String id = (String) doc.getFirstValue("id");
        Object label = doc.getFirstValue("label");
        Map<String, String> metadata;
        String json = (String) doc.getFirstValue("metadata");
        try {
            metadata = json == null ? Map.of() : JSON.readValue(json, new TypeReference<LinkedHashMap<String, String>>() {
            });
        } catch (JsonProcessingException e) {
            throw new IOException("image " + id + " has metadata that is not a JSON object of strings: " + e.getOriginalMessage(), e);
        }
        return new IndexedImage(id, (String) doc.getFirstValue("path"), vector, label == null ? null : ((Number) label).longValue(),
                longField(doc, "bytes"), longField(doc, "modified"), intField(doc, "width"), intField(doc, "height"), metadata);
    }

    private static long longField(SolrDocument doc, String field) {
        Object v = doc.getFirstValue(field);
        return v == null ? 0 : ((Number) v).longValue();
    }

    private static int intField(SolrDocument doc, String field) {
        Object v = doc.getFirstValue(field);
        return v == null ? 0 : ((Number) v).intValue();
    }

    /** The innermost message of a failure, on one line. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        String message = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) message = t.getClass().getSimpleName() + ": " + t.getMessage();
            if (t.getCause() == t) break;
            t = t.getCause();
        }
        if (message == null) message = e.getClass().getSimpleName();
        String line = message.replaceAll("\\s+", " ").trim();
        return line.length() > 400 ? line.substring(0, 400) + "…" : line;
    }

    private static void closeQuietly(AutoCloseable c, Exception cause) {
        try {
            c.close();
        } catch (Exception e) {
            cause.addSuppressed(e);
        }
    }
}
