//! Charts as SVG or PNG, drawn with plotters: log-log time against size for `bench --plot`, and
//! a histogram for `stats --plot`. Text uses DejaVu Sans, embedded, so no system font is needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// One line of a chart: its label and (x, y) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A chart: title, axis labels, log or linear axes, and its lines (or bars).
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    /// Draw the first series as bars (a histogram: points at the bin centres) instead of lines.
    pub bars: bool,
    pub series: Vec<Series>,
}

const SIZE: (u32, u32) = (960, 600);
const FONT: &str = "sans-serif";

/// Registers the embedded font once per process.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

impl Chart {
    /// Writes the chart to `path`, as SVG or PNG by extension.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        register_font();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let drawn = match ext.to_ascii_lowercase().as_str() {
            "svg" => {
                let mut svg = String::new();
                self.draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area())
                    .and_then(|()| Ok(std::fs::write(path, svg)?))
            }
            "png" => self.draw(BitMapBackend::new(path, SIZE).into_drawing_area()),
            other => return Err(format!("unknown chart type {other:?}: use .svg or .png")),
        };
        drawn.map_err(|e| e.to_string())
    }

    /// The range of the points on one axis, padded, and strictly positive on a log axis.
    fn range(&self, pick: fn(&(f64, f64)) -> f64, log: bool) -> (f64, f64) {
        let values = self.series.iter().flat_map(|s| s.points.iter().map(pick));
        let values: Vec<f64> = values
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        match (lo.is_finite(), log) {
            (false, true) => (1.0, 10.0),
            (false, false) => (0.0, 1.0),
            (true, true) => (lo / 1.5, hi * 1.5),
            (true, false) => {
                let pad = ((hi - lo) * 0.05).max(f64::EPSILON);
                (if self.bars { lo.min(0.0) } else { lo - pad }, hi + pad)
            }
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (x0, x1) = self.range(|p| p.0, self.log_x);
        let (y0, y1) = self.range(|p| p.1, self.log_y);
        let (x0, x1) = if self.bars {
            self.bar_span(x0, x1)
        } else {
            (x0, x1)
        };
        let y0 = if self.bars && !self.log_y { 0.0 } else { y0 };
        match (self.log_x, self.log_y) {
            (true, true) => self.plot(&root, (x0..x1).log_scale(), (y0..y1).log_scale()),
            (true, false) => self.plot(&root, (x0..x1).log_scale(), y0..y1),
            (false, true) => self.plot(&root, x0..x1, (y0..y1).log_scale()),
            (false, false) => self.plot(&root, x0..x1, y0..y1),
        }?;
        root.present()?;
        Ok(())
    }

    /// The x span covering whole bars: half a bin beyond the first and last centres.
    fn bar_span(&self, x0: f64, x1: f64) -> (f64, f64) {
        let w = self.bar_width();
        (x0 - w / 2.0, x1 + w / 2.0)
    }

    /// The bin width: the spacing of the bar centres (1 for a single bar).
    fn bar_width(&self) -> f64 {
        match self.series.first().map(|s| &s.points[..]) {
            Some([a, b, ..]) => b.0 - a.0,
            _ => 1.0,
        }
    }

    fn plot<DB, X, Y>(&self, root: &DrawingArea<DB, Shift>, x: X, y: Y) -> DrawResult<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        for (i, s) in self.series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            if self.bars {
                let half = self.bar_width() / 2.0;
                let bars = s.points.iter().map(|&(x, y)| {
                    Rectangle::new([(x - half, 0.0), (x + half, y)], color.filled())
                });
                chart
                    .draw_series(bars)?
                    .label(&s.label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled())
                    });
            } else {
                let line = LineSeries::new(s.points.iter().copied(), color.stroke_width(2));
                chart
                    .draw_series(line)?
                    .label(&s.label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
        }
        chart
            .configure_series_labels()
            .position(if self.bars {
                SeriesLabelPosition::UpperRight
            } else {
                SeriesLabelPosition::UpperLeft
            })
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// A short tick label: 1e-3, 0.5, 40, 1.6e7.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-2..1e4).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .into()
    }
}
