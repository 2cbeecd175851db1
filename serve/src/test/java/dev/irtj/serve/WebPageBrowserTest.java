package dev.irtj.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.irtj.index.IndexedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}),
 * driven by Selenium: upload an image, see the result thumbnails load, click one and see the
 * results become that image's search; a non-image shows the service's error in the page.
 *
 * <p>Skipped, naming the reason, only where Chromium cannot run here. CI sets
 * {@code IRTJ_BROWSER_REQUIRED=1} (see {@code .ci/run}, which installs Chromium), and then a
 * missing or broken Chromium fails the test instead of skipping it.
 */
// A hung connection fails the test instead of stalling the build.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebPageBrowserTest {
    /** Debian's paths; -Dirtj.chromium and -Dirtj.chromedriver name others. */
    private static final Path CHROMIUM = Path.of(System.getProperty("irtj.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("irtj.chromedriver", "/usr/bin/chromedriver"));
    /**
     * Selenium warns that it has no DevTools bindings for this Chromium version; the test drives
     * the page through WebDriver only, so the warning is noise. Held here so the setting sticks.
     */
    private static final Logger DEVTOOLS_LOG = Logger.getLogger("org.openqa.selenium.devtools");

    static {
        DEVTOOLS_LOG.setLevel(Level.SEVERE);
    }

    @TempDir
    Path root;

    private final FakeDescriber describer = new FakeDescriber();
    private List<IndexedImage> images;
    private SearchService service;
    private ChromeDriver driver;

    @BeforeEach
    void setUp() throws IOException {
        String missing = chromiumProblem();
        if (missing != null) {
            if ("1".equals(System.getenv("IRTJ_BROWSER_REQUIRED"))) fail("IRTJ_BROWSER_REQUIRED=1 but " + missing);
            Assumptions.abort(missing);
        }
        InMemoryIndex index = new InMemoryIndex(describer.fingerprint(), describer.describe(), FakeDescriber.DIMS);
        images = new ArrayList<>(TestImages.create(root.resolve("cat"), 0, 12, describer));
        index.upsert(images);
        index.commit();
        service = new SearchService(index, describer, ServeOptions.defaults().withPort(0)).start();

        // Selenium Manager must not look for a driver or a browser online (there is no internet):
        // both are named here, which keeps it out of the way.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + Files.createDirectories(root.resolve("chromium-profile")), "--window-size=1280,900");
        ChromeDriverService driverService = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(driverService, options);
    }

    @AfterEach
    void tearDown() {
        if (driver != null) driver.quit();
        if (service != null) service.stop();
    }

    /** Why Chromium cannot run here, or null when both binaries answer {@code --version}. */
    static String chromiumProblem() {
        for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(p)) return p + " is not installed (Debian: apt-get install chromium chromium-driver)";
            try {
                Process proc = new ProcessBuilder(p.toString(), "--version").redirectErrorStream(true).start();
                if (!proc.waitFor(30, TimeUnit.SECONDS)) {
                    proc.destroyForcibly();
                    return p + " --version did not answer in 30 s";
                }
                String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (proc.exitValue() != 0) return p + " --version failed (exit " + proc.exitValue() + "): " + out;
            } catch (IOException e) {
                return p + " cannot be started: " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted while checking " + p;
            }
        }
        return null;
    }

    private WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(driver, Duration.ofSeconds(seconds));
    }

    private List<WebElement> hits() {
        return driver.findElements(By.cssSelector("#results li.hit"));
    }

    /** Waits until the results are those of {@code query} and every thumbnail has pixels. */
    private void waitForResults(String query) {
        waitUpTo(30).withMessage(() -> "results of " + query + "; error box: " + driver.findElement(By.id("error")).getText())
                .until(d -> query.equals(d.findElement(By.id("results")).getDomAttribute("data-query")) && !hits().isEmpty());
        waitUpTo(30).withMessage(() -> "thumbnails loaded").until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
                "const imgs = document.querySelectorAll('#results img.thumb');"
                        + "return imgs.length > 0 && Array.from(imgs).every(i => i.complete && i.naturalWidth > 0);"));
    }

    @Test
    void uploadShowsThumbnailsAndClickingOneSearchesByIt() throws IOException {
        driver.get(service.url());
        assertEquals("irtj image search", driver.getTitle());
        waitUpTo(30).withMessage(() -> "the index line from /stats").until(d -> d.findElement(By.id("stats")).getText().startsWith("12 images · 48-d"));

        IndexedImage query = images.get(4);
        File file = new File(query.path());
        driver.findElement(By.id("file")).sendKeys(file.getAbsolutePath());
        waitForResults("upload:" + file.getName());
        List<WebElement> first = hits();
        assertEquals(10, first.size(), "the default k");
        assertEquals(query.id(), first.get(0).getDomAttribute("data-id"), "the uploaded image is its own best match");
        assertTrue(first.get(0).findElement(By.className("score")).getText().contains("1.0000"), first.get(0).getText());
        assertTrue(first.get(0).findElement(By.className("label")).getText().contains("label " + query.label()));
        long thumbWidth = (Long) ((JavascriptExecutor) driver).executeScript("return document.querySelector('#results img.thumb').naturalWidth;");
        assertEquals(40, thumbWidth, "the served thumbnail of a 40 × 30 image");
        assertTrue(driver.findElement(By.id("query")).isDisplayed(), "the query is shown");

        WebElement third = first.get(2);
        String clicked = third.getDomAttribute("data-id");
        assertNotEquals(query.id(), clicked);
        third.click();
        waitForResults(clicked);
        List<WebElement> second = hits();
        assertEquals(clicked, second.get(0).getDomAttribute("data-id"), "the clicked image is the new query's best match");
        assertTrue(driver.findElement(By.id("query-caption")).getText().contains(clicked));

        // Fewer results: the same query again with k = 5.
        new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("k"))).selectByVisibleText("5");
        waitUpTo(30).withMessage(() -> "5 results").until(d -> hits().size() == 5);
        assertEquals(clicked, hits().get(0).getDomAttribute("data-id"));

        Path text = Files.writeString(root.resolve("notes.png"), "these are notes, not pixels");
        driver.findElement(By.id("file")).sendKeys(text.toString());
        WebElement error = driver.findElement(By.id("error"));
        waitUpTo(30).withMessage(() -> "the error shown").until(d -> error.isDisplayed() && !error.getText().isBlank());
        assertTrue(error.getText().contains("not an image"), error.getText());
        assertTrue(hits().isEmpty(), "no stale results under an error");
    }
}
