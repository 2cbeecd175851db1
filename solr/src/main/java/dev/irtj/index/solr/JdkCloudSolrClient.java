package dev.irtj.index.solr;

import org.apache.solr.client.solrj.SolrClient;
import org.apache.solr.client.solrj.SolrRequest;
import org.apache.solr.client.solrj.SolrServerException;
import org.apache.solr.client.solrj.impl.BaseHttpClusterStateProvider;
import org.apache.solr.client.solrj.impl.CloudSolrClient;
import org.apache.solr.client.solrj.impl.ClusterStateProvider;
import org.apache.solr.client.solrj.impl.HttpJdkSolrClient;
import org.apache.solr.client.solrj.impl.LBSolrClient;
import org.apache.solr.common.util.NamedList;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SolrCloud routing (shard leaders for updates, live replicas for queries, retries on stale
 * cluster state) over the JDK's {@code java.net.http} client.
 *
 * <p>SolrJ 9.10's own routing client, {@code CloudHttp2SolrClient}, is wired to
 * {@code Http2SolrClient}, which runs on Jetty 10; the {@code cli} module's single jar holds Jetty
 * 12 for {@code irt serve}, and the two Jettys cannot share a class path. {@link CloudSolrClient}
 * itself, its load balancer {@link LBSolrClient}, and {@link BaseHttpClusterStateProvider} need
 * only a {@link SolrClient} per address, so this class gives them {@link HttpJdkSolrClient}s: one
 * per URL (a node, or a core on it), sharing one executor, all closed with this client.
 */
final class JdkCloudSolrClient extends CloudSolrClient {
    private final Clients clients;
    private final ClusterStateProvider stateProvider;
    private final Balancer balancer;

    private JdkCloudSolrClient(Clients clients, ClusterStateProvider stateProvider) {
        // Updates go to shard leaders (they forward to replicas anyway), sent one shard after
        // the other: no thread pool of CloudSolrClient's own.
        super(true, false, false);
        this.clients = clients;
        this.stateProvider = stateProvider;
        this.balancer = new Balancer(clients);
    }

    /** A client whose cluster state comes from ZooKeeper (watched, so it follows node changes). */
    static JdkCloudSolrClient overZooKeeper(ClusterStateProvider zkStateProvider, long connectTimeoutMs) {
        return new JdkCloudSolrClient(new Clients(connectTimeoutMs), zkStateProvider);
    }

    /**
     * A client whose cluster state comes from the Solr nodes at these base URLs
     * ({@code http://host:8983/solr}); throws when none of them answers.
     */
    static JdkCloudSolrClient overHttp(List<String> solrUrls, long connectTimeoutMs) throws Exception {
        Clients clients = new Clients(connectTimeoutMs);
        try {
            return new JdkCloudSolrClient(clients, new HttpStateProvider(solrUrls, clients));
        } catch (Exception | Error e) {
            clients.close();
            throw e;
        }
    }

    @Override
    protected LBSolrClient getLbClient() {
        return balancer;
    }

    @Override
    public ClusterStateProvider getClusterStateProvider() {
        return stateProvider;
    }

    @Override
    public void close() throws IOException {
        try (clients; stateProvider; balancer) {
            super.close();
        }
    }

    /** One {@link HttpJdkSolrClient} per URL, created on first use. */
    static final class Clients implements AutoCloseable {
        private final long connectTimeoutMs;
        private final Map<String, HttpJdkSolrClient> byUrl = new ConcurrentHashMap<>();
        // Daemon threads: a command that forgets to close its index still exits.
        private final ExecutorService executor = Executors.newCachedThreadPool(new ThreadFactory());

        Clients(long connectTimeoutMs) {
            this.connectTimeoutMs = connectTimeoutMs;
        }

        HttpJdkSolrClient get(String url) {
            // HTTP/1.1 with keep-alive: over plain http, HTTP/2 would need the JDK client's h2c
            // upgrade (and HttpJdkSolrClient's HEAD request before each first POST to a host),
            // and one multiplexed connection per node gains nothing for these request sizes.
            return byUrl.computeIfAbsent(url, u -> new HttpJdkSolrClient.Builder(u)
                    .withExecutor(executor)
                    .withConnectionTimeout(connectTimeoutMs, TimeUnit.MILLISECONDS)
                    .useHttp1_1(true)
                    .build());
        }

        @Override
        public void close() throws IOException {
            IOException first = null;
            for (HttpJdkSolrClient c : byUrl.values()) {
                try {
                    c.close();
                } catch (IOException e) {
                    if (first == null) first = e;
                }
            }
            byUrl.clear();
            executor.shutdownNow();
            if (first != null) throw first;
        }
    }

    private static final class ThreadFactory implements java.util.concurrent.ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "irtj-solr-http-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }

    /** The load balancer CloudSolrClient sends every routed request through. */
    static final class Balancer extends LBSolrClient {
        private final Clients clients;

        Balancer(Clients clients) {
            // CloudSolrClient names the servers of each request itself; none are fixed here.
            super(List.of());
            this.clients = clients;
        }

        @Override
        protected SolrClient getClient(String baseUrl) {
            return clients.get(baseUrl);
        }

        @Override
        protected SolrClient getClient(Endpoint endpoint) {
            return clients.get(endpoint.getUrl());
        }

        /**
         * HttpJdkSolrClient lets a transport failure (a connection closed mid-response) out as a
         * bare IOException, which LBSolrClient does not retry; Http2SolrClient, which it was
         * written for, wraps them in SolrServerException. Wrapped the same way, a query moves on
         * to the shard's next replica, and an update is retried only when it could not connect,
         * as with SolrJ's own client.
         */
        @Override
        protected NamedList<Object> doRequest(String baseUrl, SolrRequest<?> request, String collection)
                throws SolrServerException, IOException {
            try {
                return super.doRequest(baseUrl, request, collection);
            } catch (java.net.SocketException | java.net.SocketTimeoutException e) {
                throw e; // LBSolrClient handles these itself (refused, reset, timed out)
            } catch (IOException e) {
                throw new SolrServerException(e);
            }
        }
    }

    /** Cluster state and live nodes read from the Solr nodes themselves (CLUSTERSTATUS). */
    private static final class HttpStateProvider extends BaseHttpClusterStateProvider {
        private final Clients clients;

        HttpStateProvider(List<String> solrUrls, Clients clients) throws Exception {
            this.clients = clients;
            initConfiguredNodes(solrUrls);
        }

        @Override
        protected SolrClient getSolrClient(String baseUrl) {
            // The provider closes what it gets after each request; the shared client must stay.
            return new Unclosed(clients.get(baseUrl));
        }
    }

    /** A client whose close() leaves the one it wraps open. */
    private static final class Unclosed extends SolrClient {
        private static final long serialVersionUID = 1L;
        private final transient SolrClient client;

        Unclosed(SolrClient client) {
            this.client = client;
        }

        @Override
        public NamedList<Object> request(SolrRequest<?> request, String collection) throws SolrServerException, IOException {
            return client.request(request, collection);
        }

        @Override
        public void close() {
        }
    }
}
