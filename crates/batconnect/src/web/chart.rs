//! Charts drawn on the server as SVG, each with its table under it (the table is the chart's
//! accessible alternative and carries the exact figures). Drawn with plotters' SVG backend:
//! a crate made for charts (axes, ticks, scaling, legends), with no script, no CDN and no
//! font files (its built-in text metrics; the browser draws the text). One helper for every
//! chart of the console: bars per category, one or more series side by side.

use domain::money::Money;
use maud::{html, Markup, PreEscaped};
use plotters::prelude::*;

use super::layout::money;

/// One series of a bar chart: its name (the legend, the table's column) and one value per
/// category.
pub struct Series {
    pub name: String,
    pub values: Vec<Money>,
}

/// Bars per category, the series side by side (or stacked).
pub struct BarChart {
    pub title: String,
    /// One bar per category with the series stacked on each other (for parts of a whole,
    /// such as aging buckets); side by side otherwise.
    pub stacked: bool,
    /// The table's first column header ("Month", "Vehicle").
    pub category_header: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

const WIDTH: u32 = 760;
const HEIGHT: u32 = 300;
/// The console's accent, then colours that stay apart for colour-blind eyes.
const COLORS: [RGBColor; 6] = [
    RGBColor(38, 64, 102),
    RGBColor(214, 120, 40),
    RGBColor(80, 150, 110),
    RGBColor(128, 90, 170),
    RGBColor(190, 60, 60),
    RGBColor(40, 140, 160),
];
/// Longest category label drawn under a bar (the table has it whole).
const LABEL_CHARS: usize = 18;

fn dollars(m: Money) -> f64 {
    m.cents() as f64 / 100.0
}

/// "$12,000" for the axis.
fn axis_money(value: f64) -> String {
    let whole = value.round() as i64;
    let text = reports::thousands(whole.abs());
    if whole < 0 {
        format!("−${text}")
    } else {
        format!("${text}")
    }
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

impl BarChart {
    /// The chart as an SVG document (empty when there is nothing to draw or drawing fails;
    /// the table still says it all).
    pub fn svg(&self) -> String {
        let mut svg = String::new();
        if self.categories.is_empty() {
            return svg;
        }
        if let Err(error) = self.draw(&mut svg) {
            tracing::warn!(%error, chart = %self.title, "a chart could not be drawn");
            return String::new();
        }
        svg
    }

    fn draw(&self, out: &mut String) -> Result<(), String> {
        let n = self.categories.len();
        let values = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied().map(dollars));
        let (low, high) = values.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (low, high) = if high - low < 1.0 {
            (low, low + 1.0)
        } else {
            (low * 1.08, high * 1.08)
        };
        let turned = n > 6;
        let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(if turned { 96 } else { 30 })
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..n as f64, low..high)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| axis_money(*v))
            .max_light_lines(1)
            .light_line_style(RGBColor(240, 242, 245))
            .axis_style(RGBColor(150, 155, 165))
            .label_style(("sans-serif", 12).into_font().color(&RGBColor(60, 64, 72)))
            .draw()
            .map_err(|e| e.to_string())?;
        let count = self.series.len().max(1) as f64;
        let band = if self.stacked { 0.8 } else { 0.8 / count };
        // Where each category's stack has reached, above and below zero.
        let mut tops = vec![(0.0_f64, 0.0_f64); n];
        for (s, series) in self.series.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            let mut bars = Vec::with_capacity(n);
            for (i, v) in series.values.iter().enumerate().take(n) {
                let v = dollars(*v);
                let (x0, base) = if self.stacked {
                    let (neg, pos) = &mut tops[i];
                    let base = if v < 0.0 { *neg } else { *pos };
                    if v < 0.0 {
                        *neg += v
                    } else {
                        *pos += v
                    }
                    (i as f64 + 0.1, base)
                } else {
                    (i as f64 + 0.1 + band * s as f64, 0.0)
                };
                bars.push(Rectangle::new(
                    [(x0, base), (x0 + band * 0.92, base + v)],
                    color.filled(),
                ));
            }
            chart.draw_series(bars).map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (n as f64, 0.0)],
                RGBColor(120, 125, 135),
            )))
            .map_err(|e| e.to_string())?;
        // The categories under their bars (plotters' own labels fall on round numbers of
        // the axis, not on the bars).
        let style = ("sans-serif", 12).into_font().color(&RGBColor(60, 64, 72));
        for (i, label) in self.categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, low));
            let text = short(label);
            let element = if turned {
                Text::new(
                    text,
                    (x - 6, y + 6),
                    style.clone().transform(FontTransform::Rotate90),
                )
            } else {
                Text::new(
                    text,
                    (x, y + 8),
                    style.clone().pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Top,
                    )),
                )
            };
            root.draw(&element).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The chart's table: a row per category, a column per series, and their totals.
    pub fn table(&self) -> Markup {
        html! {
            div.table-wrap {
                table {
                    caption { (self.title) }
                    thead { tr {
                        th scope="col" { (self.category_header) }
                        @for s in &self.series { th.num scope="col" { (s.name) } }
                    } }
                    tbody {
                        @for (i, category) in self.categories.iter().enumerate() {
                            tr {
                                th scope="row" { (category) }
                                @for s in &self.series {
                                    td.num { (money(s.values.get(i).copied().unwrap_or_default())) }
                                }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" { "Total" }
                        @for s in &self.series { td.num { (money(s.values.iter().copied().sum())) } }
                    } }
                }
            }
        }
    }

    /// The chart and its table, as a figure; `id` names it on the page.
    pub fn figure(&self, id: &str) -> Markup {
        let svg = self.svg();
        html! {
            figure.chart id=(id) {
                figcaption { (self.title) }
                @if !svg.is_empty() {
                    div.chart-svg role="img" aria-label={ (self.title) ": a bar chart; the table under it gives the figures" } {
                        (PreEscaped(svg))
                    }
                    @if self.series.len() > 1 {
                        ul.chart-legend aria-hidden="true" {
                            @for (i, s) in self.series.iter().enumerate() {
                                @let c = COLORS[i % COLORS.len()];
                                // An SVG swatch: its fill is an attribute, which the
                                // console's content policy allows where a style is not.
                                li {
                                    svg.swatch width="12" height="12" viewBox="0 0 12 12" {
                                        rect width="12" height="12" rx="2" fill=(format!("rgb({}, {}, {})", c.0, c.1, c.2)) {}
                                    }
                                    (s.name)
                                }
                            }
                        }
                    }
                }
                (self.table())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_svg_with_its_categories_and_escapes_names() {
        let chart = BarChart {
            stacked: false,
            title: "Spend per workshop".into(),
            category_header: "Workshop".into(),
            categories: vec!["Big Apple Workshop".into(), "<Q&A> Body Shop".into()],
            series: vec![Series {
                name: "Spend".into(),
                values: vec![Money::from_cents(125_000), Money::from_cents(-4_000)],
            }],
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Big Apple Workshop"));
        assert!(svg.contains("&lt;Q&amp;A&gt;"), "names are escaped: {svg}");
        assert!(!svg.contains("<Q&A>"));
        assert!(svg.contains("<rect"));
        let page = chart.figure("workshops").into_string();
        assert!(page.contains("role=\"img\""));
        assert!(
            page.contains("$1,250.00") && page.contains("$1,210.00"),
            "{page}"
        );
        let empty = BarChart {
            categories: Vec::new(),
            ..chart
        };
        assert!(empty.svg().is_empty());
    }

    #[test]
    fn two_series_have_a_legend() {
        let chart = BarChart {
            stacked: false,
            title: "Parts against labour".into(),
            category_header: "Month".into(),
            categories: (1..=12).map(|m| format!("Month {m}")).collect(),
            series: vec![
                Series {
                    name: "Parts".into(),
                    values: vec![Money::from_cents(10_000); 12],
                },
                Series {
                    name: "Labour".into(),
                    values: vec![Money::from_cents(5_000); 12],
                },
            ],
        };
        assert!(chart.svg().contains("<rect"));
        let page = chart.figure("parts-labour").into_string();
        assert!(
            page.contains("chart-legend") && page.contains("Labour"),
            "{page}"
        );
        let stacked = BarChart {
            stacked: true,
            ..chart
        };
        assert!(stacked.svg().contains("<rect"));
    }
}
