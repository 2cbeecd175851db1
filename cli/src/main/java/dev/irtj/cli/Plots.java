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
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setMarkerSize(0);
        series.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]));
        save(chart, png);
    }

    /** Explained variance per principal direction, log scale. */
    static void spectrum(Path png, Map<String, double[]> explained) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title("PCA energy spectrum of test descriptors")
                .xAxisTitle("principal direction").yAxisTitle("share of variance").build();
        chart.getStyler().setYAxisLogarithmic(true).setLegendPosition(Styler.LegendPosition.InsideNE).setMarkerSize(3);
        explained.forEach((name, ev) -> {
            double[] x = new double[ev.length], y = new double[ev.length];
            for (int i = 0; i < ev.length; i++) {
                x[i] = i + 1;
                y[i] = Math.max(ev[i], 1e-12);
            }
            chart.addSeries(name, x, y);
        });
        save(chart, png);
    }

    private static void save(XYChart chart, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        AtomicFiles.replace(png, tmp -> BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG));
    }
}
