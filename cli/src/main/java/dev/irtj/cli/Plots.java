package dev.irtj.cli;

import dev.irtj.tensor.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The demo's PNG figures, drawn with XChart. */
final class Plots {
    private Plots() {
    }

    static void lossCurves(Path png, String title, Map<String, double[][]> series) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("iteration").yAxisTitle("loss").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setMarkerSize(0);
        series.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]));
        save(chart, png);
    }

    /** Explained variance per principal direction, log scale. */
    static void spectrum(Path png, Map<String, double[]> explained) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title("PCA energy spectrum of test descriptors")
                .xAxisTitle("principal direction").yAxisTitle("share of variance").build();
        chart.getStyler().setYAxisLogarithmic(true).setLegendPosition(Styler.LegendPosition.OutsideS).setMarkerSize(3);
        explained.forEach((name, ev) -> {
            double[] x = new double[ev.length], y = new double[ev.length];
            for (int i = 0; i < ev.length; i++) {
                x[i] = i + 1;
                y[i] = Math.max(ev[i], 1e-12);
            }
            colour(chart.addSeries(name, x, y), name);
        });
        save(chart, png);
    }

    /**
     * One panel per loss term, side by side, each with its own y scale (the terms differ by
     * orders of magnitude); the legend below each panel, never over a curve; runs told apart by
     * colour and marker.
     */
    static void lossPanels(Path png, Map<String, Map<String, double[][]>> panels) throws IOException {
        System.setProperty("java.awt.headless", "true");
        java.util.List<java.awt.image.BufferedImage> images = new java.util.ArrayList<>();
        int width = panels.size() == 1 ? 900 : 560;
        for (Map.Entry<String, Map<String, double[][]>> panel : panels.entrySet()) {
            XYChart chart = new XYChartBuilder().width(width).height(460).title(panel.getKey()).xAxisTitle("iteration").yAxisTitle(panel.getKey()).build();
            chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setMarkerSize(5);
            panel.getValue().forEach((name, xy) -> colour(chart.addSeries(name, xy[0], xy[1]), name));
            images.add(BitmapEncoder.getBufferedImage(chart));
        }
        int total = images.stream().mapToInt(java.awt.image.BufferedImage::getWidth).sum();
        int height = images.stream().mapToInt(java.awt.image.BufferedImage::getHeight).max().orElse(1);
        java.awt.image.BufferedImage all = new java.awt.image.BufferedImage(Math.max(1, total), height, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = all.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), height);
        int x = 0;
        for (java.awt.image.BufferedImage im : images) {
            g.drawImage(im, x, 0, null);
            x += im.getWidth();
        }
        g.dispose();
        AtomicFiles.replace(png, tmp -> javax.imageio.ImageIO.write(all, "png", tmp.toFile()));
    }

    /** Histograms (share of descriptors per bin) of each model's nearest-neighbour distances, on common bins. */
    static void histogram(Path png, String title, String xTitle, Map<String, double[]> values, int bins) throws IOException {
        double max = 0;
        for (double[] v : values.values()) for (double d : v) max = Math.max(max, d);
        double width = max > 0 ? max / bins : 1;
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle(xTitle).yAxisTitle("share of test descriptors").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setMarkerSize(5);
        for (Map.Entry<String, double[]> e : values.entrySet()) {
            double[] x = new double[bins], y = new double[bins];
            for (int b = 0; b < bins; b++) x[b] = (b + 0.5) * width;
            for (double d : e.getValue()) y[Math.min(bins - 1, (int) (d / width))] += 1.0 / e.getValue().length;
            colour(chart.addSeries(e.getKey(), x, y), e.getKey());
        }
        chart.getStyler().setXAxisDecimalPattern("0.00");
        save(chart, png);
    }

    /** One colour per model in every figure: IRT_O grey, IRT_L blue, IRT_R orange. */
    private static void colour(org.knowm.xchart.XYSeries series, String name) {
        java.awt.Color c = name.startsWith("IRT_O") ? new java.awt.Color(0x7f7f7f) : name.startsWith("IRT_L") ? new java.awt.Color(0x1f77b4)
                : name.startsWith("IRT_R") ? new java.awt.Color(0xff7f0e) : null;
        if (c != null) {
            series.setLineColor(c);
            series.setMarkerColor(c);
        }
    }

    private static void save(XYChart chart, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        AtomicFiles.replace(png, tmp -> BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG));
    }
}
