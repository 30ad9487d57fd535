package dev.refusaltokens.eval.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Line charts of the report, rendered headless to PNG bytes with JFreeChart. */
final class Charts {

  static final int WIDTH = 720;
  static final int HEIGHT = 440;
  private static final int MAX_POINTS_PER_SERIES = 2000;

  /**
   * A named series of (x, y) points; {@code dashed}, {@code markers} and {@code color} (−1:
   * automatic) set its look.
   */
  record Series(String name, List<double[]> points, boolean dashed, boolean markers, int color) {
    Series(String name, List<double[]> points, boolean dashed, boolean markers) {
      this(name, points, dashed, markers, -1);
    }
  }

  private static final Color[] PALETTE = {
    new Color(0x1f77b4),
    new Color(0xd62728),
    new Color(0x2ca02c),
    new Color(0x9467bd),
    new Color(0xff7f0e),
    new Color(0x8c564b),
    new Color(0xe377c2),
    new Color(0x17becf)
  };

  private Charts() {}

  static byte[] png(
      String title, String xLabel, String yLabel, List<Series> series, boolean diagonal) {
    System.setProperty("java.awt.headless", "true");
    XYSeriesCollection data = new XYSeriesCollection();
    for (Series s : series) {
      XYSeries xy = new XYSeries(s.name(), false, true);
      int step =
          Math.max(
              1,
              s.points().size()
                  / MAX_POINTS_PER_SERIES); // long exact curves are thinned for drawing
      for (int i = 0; i < s.points().size(); i += step) {
        xy.add(s.points().get(i)[0], s.points().get(i)[1]);
      }
      if (!s.points().isEmpty()) {
        double[] last = s.points().get(s.points().size() - 1);
        xy.addOrUpdate(last[0], last[1]);
      }
      data.addSeries(xy);
    }
    if (diagonal) {
      XYSeries d = new XYSeries("perfect", false, true);
      d.add(0.0, 0.0);
      d.add(1.0, 1.0);
      data.addSeries(d);
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.getDomainAxis().setRange(0.0, 1.0);
    plot.getRangeAxis().setRange(0.0, 1.0);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      renderer.setSeriesShapesVisible(i, s.markers());
      if (s.color() >= 0) {
        renderer.setSeriesPaint(i, PALETTE[s.color() % PALETTE.length]);
      }
      renderer.setSeriesLinesVisible(i, !s.markers() || s.points().size() > 1);
      renderer.setSeriesStroke(
          i,
          s.dashed()
              ? new BasicStroke(
                  1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
              : new BasicStroke(1.8f));
    }
    if (diagonal) {
      int d = series.size();
      renderer.setSeriesPaint(d, Color.GRAY);
      renderer.setSeriesShapesVisible(d, false);
      renderer.setSeriesStroke(
          d,
          new BasicStroke(
              1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {2f, 3f}, 0f));
    }
    plot.setRenderer(renderer);
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, Object> image(String file, String caption, byte[] png) {
    return Map.of(
        "file", file, "caption", caption, "data", Base64.getEncoder().encodeToString(png));
  }
}
