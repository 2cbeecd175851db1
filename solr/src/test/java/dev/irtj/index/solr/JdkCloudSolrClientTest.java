package dev.irtj.index.solr;

import com.sun.net.httpserver.HttpServer;
import org.apache.solr.client.solrj.SolrQuery;
import org.apache.solr.client.solrj.impl.LBSolrClient;
import org.apache.solr.client.solrj.request.QueryRequest;
import org.apache.solr.common.SolrDocumentList;
import org.apache.solr.common.util.JavaBinCodec;
import org.apache.solr.common.util.NamedList;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The load balancer's failover on the JDK client, against two local sockets. */
class JdkCloudSolrClientTest {
    /**
     * A replica that accepts the connection and closes it without answering (what a node going
     * down mid-request looks like) makes a query move on to the next replica: the JDK client's
     * bare IOException is retried as SolrJ retries Http2SolrClient's.
     */
    @Test
    void aQueryMovesOnWhenAReplicaClosesTheConnection() throws Exception {
        ByteArrayOutputStream javabin = new ByteArrayOutputStream();
        NamedList<Object> body = new NamedList<>();
        NamedList<Object> header = new NamedList<>();
        header.add("status", 0);
        body.add("responseHeader", header);
        body.add("response", new SolrDocumentList());
        try (JavaBinCodec codec = new JavaBinCodec()) {
            codec.marshal(body, javabin);
        }
        HttpServer answering = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        answering.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, javabin.size());
            try (OutputStream out = exchange.getResponseBody()) {
                javabin.writeTo(out);
            }
        });
        answering.start();
        try (ServerSocket closing = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread closer = new Thread(() -> {
                while (!closing.isClosed()) {
                    try (Socket s = closing.accept()) {
                        s.getInputStream().read(); // the request has arrived; hang up without a word
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            closer.setDaemon(true);
            closer.start();
            String dead = "http://127.0.0.1:" + closing.getLocalPort() + "/solr/c";
            String alive = "http://127.0.0.1:" + answering.getAddress().getPort() + "/solr/c";
            try (JdkCloudSolrClient.Clients clients = new JdkCloudSolrClient.Clients(2000);
                 JdkCloudSolrClient.Balancer balancer = new JdkCloudSolrClient.Balancer(clients)) {
                LBSolrClient.Rsp rsp = balancer.request(new LBSolrClient.Req(new QueryRequest(new SolrQuery("*:*")), List.of(dead, alive)));
                assertEquals(alive, rsp.getServer());
                assertEquals(0, ((NamedList<?>) rsp.getResponse().get("responseHeader")).get("status"));
            }
        } finally {
            answering.stop(0);
        }
    }
}
