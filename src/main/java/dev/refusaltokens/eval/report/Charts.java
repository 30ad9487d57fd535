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
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * Charts of the report, rendered headless to PNG bytes with JFreeChart: line charts (optionally
 * with shaded bands) and stacked bars.
 */
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

  /**
   * A line drawn with a shaded band around it: {@code points} are {x, y, low, high}; {@code dashed}
   * and {@code color} (an index into the palette) set its look.
   */
  record Band(String name, List<double[]> points, boolean dashed, int color) {}

  private Charts() {}

  static byte[] png(
      String title, String xLabel, String yLabel, List<Series> series, boolean diagonal) {
    return png(title, xLabel, yLabel, series, List.of(), diagonal);
  }

  /** Lines and banded lines on one 0–1 × 0–1 plot; the bands are drawn beneath the lines. */
  static byte[] png(
      String title,
      String xLabel,
      String yLabel,
      List<Series> series,
      List<Band> bands,
      boolean diagonal) {
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
      renderer.setSeriesStroke(i, stroke(s.dashed()));
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
    if (!bands.isEmpty()) {
      addBands(plot, bands);
    }
    return encode(chart);
  }

  /** The bands as the plot's second dataset; the default rendering order draws it first. */
  private static void addBands(XYPlot plot, List<Band> bands) {
    YIntervalSeriesCollection data = new YIntervalSeriesCollection();
    DeviationRenderer renderer = new DeviationRenderer(true, true);
    renderer.setAlpha(0.18f);
    for (int i = 0; i < bands.size(); i++) {
      Band b = bands.get(i);
      YIntervalSeries s = new YIntervalSeries(b.name(), false, true);
      b.points().forEach(p -> s.add(p[0], p[1], p[2], p[3]));
      data.addSeries(s);
      Color color = PALETTE[b.color() % PALETTE.length];
      renderer.setSeriesPaint(i, color);
      renderer.setSeriesFillPaint(i, color);
      renderer.setSeriesShapesVisible(i, true);
      renderer.setSeriesStroke(i, stroke(b.dashed()));
    }
    plot.setDataset(1, data);
    plot.setRenderer(1, renderer);
  }

  /**
   * Stacked bars on a 0–1 value axis: one bar per {@code columns} entry, one segment per {@code
   * segments} entry, {@code values[segment][column]} high.
   */
  static byte[] stackedBars(
      String title,
      String columnLabel,
      String valueLabel,
      List<String> segments,
      List<String> columns,
      double[][] values) {
    System.setProperty("java.awt.headless", "true");
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (int s = 0; s < segments.size(); s++) {
      for (int c = 0; c < columns.size(); c++) {
        data.addValue(values[s][c], segments.get(s), columns.get(c));
      }
    }
    JFreeChart chart =
        ChartFactory.createStackedBarChart(
            title, columnLabel, valueLabel, data, PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.getRangeAxis().setRange(0.0, 1.0);
    StackedBarRenderer renderer = (StackedBarRenderer) plot.getRenderer();
    renderer.setBarPainter(new StandardBarPainter());
    renderer.setShadowVisible(false);
    for (int s = 0; s < segments.size(); s++) {
      renderer.setSeriesPaint(s, PALETTE[s % PALETTE.length]);
    }
    return encode(chart);
  }

  private static BasicStroke stroke(boolean dashed) {
    return dashed
        ? new BasicStroke(
            1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
        : new BasicStroke(1.8f);
  }

  private static byte[] encode(JFreeChart chart) {
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
