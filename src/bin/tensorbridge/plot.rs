//! Line charts as SVG or PNG, with no plotting dependency: one small drawing surface with two
//! back ends (SVG text, or an RGB raster with an 8×8 bitmap font, encoded by `png`).

use std::path::Path;

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
    /// Draw the first series as bars (a histogram) instead of lines.
    pub bars: bool,
    pub series: Vec<Series>,
}

const W: f64 = 900.0;
const H: f64 = 560.0;
/// Margins: left, right (legend), top, bottom.
const L: f64 = 80.0;
const R: f64 = 190.0;
const T: f64 = 40.0;
const B: f64 = 60.0;
const COLORS: [[u8; 3]; 8] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
];

/// What a back end draws.
trait Surface {
    fn line(&mut self, a: (f64, f64), b: (f64, f64), rgb: [u8; 3], width: f64);
    fn rect(&mut self, a: (f64, f64), b: (f64, f64), rgb: [u8; 3]);
    /// Text with its left end (or its centre, when `centre`) at `p`.
    fn text(&mut self, p: (f64, f64), s: &str, centre: bool);
}

impl Chart {
    /// Writes the chart to `path`, as SVG or PNG by extension.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let bytes = match ext.to_ascii_lowercase().as_str() {
            "svg" => {
                let mut s = Svg(String::new());
                self.draw(&mut s);
                format!(
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
                     font-family=\"monospace\" font-size=\"12\">\
                     <rect width=\"100%\" height=\"100%\" fill=\"white\"/>{}</svg>\n",
                    s.0
                )
                .into_bytes()
            }
            "png" => {
                let mut r = Raster::new();
                self.draw(&mut r);
                r.encode()?
            }
            _ => return Err(format!("{}: expected a .svg or .png file", path.display())),
        };
        write_atomic(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn axis(&self, log: bool, values: impl Iterator<Item = f64>) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
            let v = if log { v.log10() } else { v };
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        if log {
            (lo.floor(), hi.ceil().max(lo.floor() + 1.0))
        } else if self.bars {
            (lo.min(0.0), if hi > lo { hi } else { lo + 1.0 })
        } else {
            let pad = ((hi - lo) * 0.05).max(1e-12);
            (lo - pad, hi + pad)
        }
    }

    fn draw(&self, s: &mut impl Surface) {
        let pts = || self.series.iter().flat_map(|l| l.points.iter());
        let (x0, x1) = self.axis(self.log_x, pts().map(|p| p.0));
        let (y0, y1) = self.axis(
            self.log_y,
            pts().map(|p| p.1).chain(self.bars.then_some(0.0)),
        );
        let tx = |v: f64| {
            let v = if self.log_x { v.log10() } else { v };
            L + (v - x0) / (x1 - x0) * (W - L - R)
        };
        let ty = |v: f64| {
            let v = if self.log_y { v.max(1e-300).log10() } else { v };
            H - B - (v - y0) / (y1 - y0) * (H - T - B)
        };
        let grey = [200, 200, 200];
        let black = [0, 0, 0];
        for (log, lo, hi, vertical) in [(self.log_x, x0, x1, true), (self.log_y, y0, y1, false)] {
            // Log axes: a tick per decade (every other one when there are many).
            let ticks: Vec<f64> = if log {
                let step = if hi - lo > 8.0 { 2 } else { 1 };
                (lo as i64..=hi as i64)
                    .step_by(step)
                    .map(|e| 10f64.powi(e as i32))
                    .collect()
            } else {
                (0..=5).map(|i| lo + (hi - lo) * i as f64 / 5.0).collect()
            };
            for raw in ticks {
                let label = tick(raw);
                if vertical {
                    let x = tx(raw);
                    s.line((x, T), (x, H - B), grey, 1.0);
                    s.text((x, H - B + 16.0), &label, true);
                } else {
                    let y = ty(raw);
                    s.line((L, y), (W - R, y), grey, 1.0);
                    s.text((4.0, y + 4.0), &label, false);
                }
            }
        }
        s.line((L, H - B), (W - R, H - B), black, 1.0);
        s.line((L, T), (L, H - B), black, 1.0);
        s.text((W / 2.0, 22.0), &self.title, true);
        s.text(((L + W - R) / 2.0, H - 16.0), &self.x_label, true);
        s.text((4.0, T - 12.0), &self.y_label, false);
        for (i, line) in self.series.iter().enumerate() {
            let c = COLORS[i % COLORS.len()];
            if self.bars && i == 0 {
                let w = (W - L - R) / line.points.len().max(1) as f64;
                for &(x, y) in &line.points {
                    let cx = tx(x);
                    s.rect((cx - w * 0.45, ty(y)), (cx + w * 0.45, ty(y0.max(0.0))), c);
                }
            } else {
                for w in line.points.windows(2) {
                    s.line((tx(w[0].0), ty(w[0].1)), (tx(w[1].0), ty(w[1].1)), c, 2.0);
                }
                for &(x, y) in &line.points {
                    let (px, py) = (tx(x), ty(y));
                    s.rect((px - 2.0, py - 2.0), (px + 2.0, py + 2.0), c);
                }
            }
            let ly = T + 10.0 + 18.0 * i as f64;
            s.rect((W - R + 10.0, ly - 5.0), (W - R + 24.0, ly + 3.0), c);
            s.text((W - R + 30.0, ly + 3.0), &line.label, false);
        }
    }
}

/// Short tick labels: 4K, 1M, 2.5, 1e-6 and so on.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-2..1e5).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Writes to a temporary file next to `path`, then renames: no partial file on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let r = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

struct Svg(String);

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Surface for Svg {
    fn line(&mut self, a: (f64, f64), b: (f64, f64), rgb: [u8; 3], width: f64) {
        self.0 += &format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width}\"/>",
            a.0,
            a.1,
            b.0,
            b.1,
            hex(rgb)
        );
    }

    fn rect(&mut self, a: (f64, f64), b: (f64, f64), rgb: [u8; 3]) {
        self.0 += &format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
            a.0.min(b.0),
            a.1.min(b.1),
            (b.0 - a.0).abs(),
            (b.1 - a.1).abs(),
            hex(rgb)
        );
    }

    fn text(&mut self, p: (f64, f64), s: &str, centre: bool) {
        let anchor = if centre {
            " text-anchor=\"middle\""
        } else {
            ""
        };
        self.0 += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\"{anchor}>{}</text>",
            p.0,
            p.1,
            escape(s)
        );
    }
}

struct Raster {
    px: Vec<u8>,
}

impl Raster {
    fn new() -> Self {
        Raster {
            px: vec![255; (W * H) as usize * 3],
        }
    }

    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as f64) < W && (y as f64) < H {
            let i = (y as usize * W as usize + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, W as u32, H as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&self.px).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
        Ok(out)
    }
}

impl Surface for Raster {
    fn line(&mut self, a: (f64, f64), b: (f64, f64), rgb: [u8; 3], width: f64) {
        let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as usize;
        let r = (width / 2.0).floor() as i64;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            for dy in -r..=r.max(0) {
                for dx in -r..=r.max(0) {
                    self.set(x.round() as i64 + dx, y.round() as i64 + dy, rgb);
                }
            }
        }
    }

    fn rect(&mut self, a: (f64, f64), b: (f64, f64), rgb: [u8; 3]) {
        let (x0, x1) = (a.0.min(b.0).round() as i64, a.0.max(b.0).round() as i64);
        let (y0, y1) = (a.1.min(b.1).round() as i64, a.1.max(b.1).round() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                self.set(x, y, rgb);
            }
        }
    }

    fn text(&mut self, p: (f64, f64), s: &str, centre: bool) {
        use font8x8::UnicodeFonts;
        let width = 8 * s.chars().count() as i64;
        let x0 = p.0.round() as i64 - if centre { width / 2 } else { 0 };
        let y0 = p.1.round() as i64 - 8;
        for (i, ch) in s.chars().enumerate() {
            let glyph = font8x8::BASIC_FONTS
                .get(ch)
                .or_else(|| font8x8::LATIN_FONTS.get(ch))
                .or_else(|| font8x8::GREEK_FONTS.get(ch))
                .unwrap_or([0; 8]);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits >> col & 1 == 1 {
                        self.set(x0 + 8 * i as i64 + col, y0 + row as i64, [0, 0, 0]);
                    }
                }
            }
        }
    }
}
