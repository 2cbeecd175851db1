package dev.irtj.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The --solr location flags of irt index / search / serve, without a cluster: what is refused
 * before anything connects, and an address that does not answer. The commands against a real
 * SolrCloud are in module solr-cli-it (SolrCliTest).
 */
class SolrOptionsTest {
    @Test
    void locationAndSolrOnlyFlagsAreRefusedInOneLine(@TempDir Path dir) throws IOException {
        Path images = CliTest.imageFolder(dir.resolve("photos"), 1, 2);
        String idx = dir.resolve("index").toString(), zk = "127.0.0.1:1", img = images.toString();
        Object[][] cases = {
                {new String[] {"index", "--solr", zk, "--collection", "c", "--images", img, "--quantize", "int8"},
                        "--quantize has no SolrCloud counterpart (a collection's vectors are raw floats searched by HNSW); drop it with --solr"},
                {new String[] {"index", "--solr", zk, "--collection", "c", "--images", img, "--exact=false"}, "--exact has no SolrCloud counterpart"},
                {new String[] {"index", "--solr", zk, "--collection", "c", "--images", img, "--ef", "40"}, "--ef is recorded only by an embedded --index"},
                {new String[] {"index", "--index", idx, "--images", img, "--replicas", "2"}, "--replicas applies to a SolrCloud collection"},
                {new String[] {"index", "--solr", zk, "--collection", "c", "--images", img, "--shards", "0"}, "--shards must be at least 1, got 0"},
                {new String[] {"index", "--solr", zk, "--images", img}, "--solr 127.0.0.1:1 needs --collection NAME"},
                {new String[] {"index", "--collection", "c", "--images", img}, "--collection c needs --solr ZK_HOSTS_OR_URL"},
                {new String[] {"search", "--index", idx, "--solr", zk, "--collection", "c", "--id", "a"}, "give either --index DIR or --solr"},
                {new String[] {"search", "--solr", " ", "--collection", "c", "--id", "a"}, "--solr expects ZooKeeper hosts"},
                {new String[] {"serve", "--solr", zk}, "--solr 127.0.0.1:1 needs --collection NAME"},
                {new String[] {"serve", "--index", idx, "--collection", "c"}, "give either --index DIR or --solr"},
                {new String[] {"search", "--solr", "http://127.0.0.1:1/solr", "--collection", "bad name", "--id", "a"},
                        "--solr http://127.0.0.1:1/solr --collection bad name: collection name 'bad name' is not a valid SolrCloud name"},
        };
        for (Object[] c : cases) {
            CliTest.Result r = CliTest.irt((String[]) c[0]);
            String line = String.join(" ", (String[]) c[0]) + " -> " + r.err();
            assertEquals(2, r.code(), line);
            String first = r.err().lines().findFirst().orElse("");
            assertTrue(first.contains((String) c[1]), line);
        }
        assertFalse(Files.exists(dir.resolve("index")), "nothing is created by a refused run");
    }

    @Test
    void aSolrThatDoesNotAnswerIsOneLineNamingIt() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        String url = "http://127.0.0.1:" + port + "/solr";
        CliTest.Result r = CliTest.irt("search", "--solr", url, "--collection", "c", "--id", "a");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("irt search: cannot reach SolrCloud at " + url + ": "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }
}
