package dev.irtj.index.solr;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SolrIndex.Options and the configset, without a cluster. */
class SolrIndexOptionsTest {
    static final FixedDescriber DESCRIBER = new FixedDescriber("fp", 8);

    @Test
    void optionsRefuseWhatCannotWork() {
        IllegalArgumentException noDescriber = assertThrows(IllegalArgumentException.class,
                () -> SolrIndex.Options.existing().creatingIfMissing(1, 1));
        assertTrue(noDescriber.getMessage().contains("needs the describer"), noDescriber.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SolrIndex.Options.of(DESCRIBER).creatingIfMissing(-1, 1));
        IllegalArgumentException bigM = assertThrows(IllegalArgumentException.class, () -> SolrIndex.Options.of(DESCRIBER).withHnsw(513, 100));
        assertTrue(bigM.getMessage().contains("hnswMaxConnections must be <= 512"), bigM.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SolrIndex.Options.of(DESCRIBER).withHnsw(16, 3201));
        assertThrows(IllegalArgumentException.class, () -> SolrIndex.Options.of(DESCRIBER).withEfSearch(0));
        assertThrows(IllegalArgumentException.class, () -> SolrIndex.Options.of(DESCRIBER).withConnectTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> new SolrIndex.Options(null, null, null, 8, false, 0, 0, 0, 0, 10, Duration.ofSeconds(1)));
        IllegalArgumentException badName = assertThrows(IllegalArgumentException.class,
                () -> SolrIndex.open("localhost:2181", "no spaces", SolrIndex.Options.existing()));
        assertTrue(badName.getMessage().contains("'no spaces'"), badName.getMessage());
    }

    @Test
    void optionsKeepWhatTheyAreGiven() {
        SolrIndex.Options o = SolrIndex.Options.of(DESCRIBER).creatingIfMissing(3, 2).withHnsw(24, 200).withEfSearch(50)
                .withConnectTimeout(Duration.ofSeconds(3));
        assertEquals(new SolrIndex.Options("fp", DESCRIBER.describe(), "{}", 8, true, 3, 2, 24, 200, 50, Duration.ofSeconds(3)), o);
    }

    @Test
    void configSetCarriesTheCollectionsDimsAndHnswSettings() throws IOException {
        Map<String, String> files = new HashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(SolrIndex.configSetZip(384, 24, 200)))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) files.put(e.getName(), new String(zip.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertEquals(java.util.Set.of("solrconfig.xml", "schema.xml"), files.keySet());
        String schema = files.get("schema.xml");
        assertTrue(schema.contains("vectorDimension=\"384\""), schema);
        assertTrue(schema.contains("hnswMaxConnections=\"24\""), schema);
        assertTrue(schema.contains("hnswBeamWidth=\"200\""), schema);
        for (String text : files.values()) assertFalse(text.matches("(?s).*@[A-Z]+@.*"), "placeholder left in " + text);
    }
}
