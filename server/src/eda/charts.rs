//! The report's charts, drawn with `plotters` on its SVG backend, each to an SVG string.
//!
//! Charts are built from an [`EdaReport`](super::EdaReport)'s numbers only. Text in them is
//! generated here (axis labels, counts); plotters escapes it anyway. A chart that cannot be
//! drawn gives an error message, which the page shows in its place.

use std::error::Error;

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::calendar::month_label;
use super::numbers::{percent, thousands};
use super::report::*;

/// Chart size in SVG pixels; the page scales charts to the screen width.
const WIDTH: u32 = 640;
const HEIGHT: u32 = 380;
/// Font size (plotters units; SVG text is this / 1.24 px).
const FONT: u32 = 21;
const FAMILY: &str = "sans-serif";

const BLUE_: RGBColor = RGBColor(52, 101, 164);
const ORANGE: RGBColor = RGBColor(230, 126, 34);
const GREY: RGBColor = RGBColor(120, 120, 120);
const GRID: RGBColor = RGBColor(225, 225, 225);
const STAR_COLOURS: [RGBColor; 5] = [
    RGBColor(192, 57, 43),
    RGBColor(230, 126, 34),
    RGBColor(241, 196, 15),
    RGBColor(120, 180, 80),
    RGBColor(39, 150, 96),
];

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn Error>>;

/// The legend of a chart with several series, in the given corner.
fn draw_legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font(font())
        .draw()?;
    Ok(())
}

/// Draws on a fresh white SVG canvas and returns the SVG text.
fn svg(draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn font() -> TextStyle<'static> {
    (FAMILY, FONT).into_font().color(&BLACK)
}

fn small_font() -> TextStyle<'static> {
    (FAMILY, FONT - 4).into_font().color(&BLACK)
}

/// A label centred above a point.
fn above(text: String, at: (f64, f64)) -> Text<'static, (f64, f64), String> {
    Text::new(
        text,
        at,
        small_font().pos(Pos::new(HPos::Center, VPos::Bottom)),
    )
}

/// The top of a value axis: a little above `max`, never 0.
fn headroom(max: f64) -> f64 {
    if max > 0.0 && max.is_finite() {
        max * 1.15
    } else {
        1.0
    }
}

/// `1200` as `1.2k`, for log axes.
fn compact(x: f64) -> String {
    if x >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if x >= 1e3 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// A linear axis with labels exactly at `ticks` (plotters' own key-point binding cannot
/// format `f64` labels).
#[derive(Debug, Clone)]
struct Ticked {
    low: f64,
    high: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self {
            low: range.start,
            high: range.end,
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.high - self.low;
        let t = if span > 0.0 {
            (value - self.low) / span
        } else {
            0.5
        };
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.low..self.high
    }
}

/// Star positions 1..=5 as the ticks of an axis from 0.5 to 5.5.
fn stars_axis() -> Ticked {
    Ticked::new(0.5..5.5, vec![1.0, 2.0, 3.0, 4.0, 5.0])
}

fn star_label(x: &f64) -> String {
    format!("{x:.0}★")
}

/// A chart with the five star ratings along x and `0..y_max` along y, grid and labels drawn.
fn stars_chart<'a, 'b>(
    root: &'a Area<'b>,
    y_max: f64,
    y_label: &dyn Fn(&f64) -> String,
    y_desc: &str,
) -> Result<
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked, plotters::coord::types::RangedCoordf64>>,
    Box<dyn Error>,
> {
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(stars_axis(), 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .label_style(font())
        .x_label_formatter(&star_label)
        .y_label_formatter(y_label)
        .y_desc(y_desc)
        .axis_desc_style(font())
        .draw()?;
    Ok(chart)
}

/// The star rating histogram: bars with their share.
pub(crate) fn ratings(r: &Ratings) -> Result<String, String> {
    svg(|root| {
        let max = r.histogram.iter().copied().max().unwrap_or(0) as f64;
        let mut chart = stars_chart(root, headroom(max), &|y| compact(*y), "reviews")?;
        chart.draw_series(r.histogram.iter().enumerate().map(|(i, &count)| {
            let x = i as f64 + 1.0;
            Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, count as f64)],
                STAR_COLOURS[i].filled(),
            )
        }))?;
        chart.draw_series(
            r.histogram
                .iter()
                .enumerate()
                .map(|(i, &count)| above(percent(r.shares[i]), (i as f64 + 1.0, count as f64))),
        )?;
        Ok(())
    })
}

/// Key points for a month axis: Januaries, every `step` years so that at most ~7 show.
fn year_ticks(first: i32, last: i32) -> Vec<f64> {
    let years = (last - first) / 12 + 1;
    let step = ((years + 6) / 7).max(1);
    let first_january = first + (12 - first.rem_euclid(12)) % 12;
    (first_january..=last)
        .step_by(12 * step as usize)
        .map(f64::from)
        .collect()
}

/// Months as numbers (of `calendar::month_of`), parsed back from their labels.
fn month_numbers(t: &TimeSeries) -> Vec<i32> {
    t.months
        .iter()
        .map(|m| {
            let (year, month) = m.month.split_once('-').unwrap_or(("1970", "01"));
            let year: i32 = year.parse().unwrap_or(1970);
            let month: i32 = month.parse().unwrap_or(1);
            (year - 1970) * 12 + month - 1
        })
        .collect()
}

fn month_axis(t: &TimeSeries) -> (f64, f64, Vec<f64>) {
    let numbers = month_numbers(t);
    let first = numbers.first().copied().unwrap_or(0);
    let last = numbers.last().copied().unwrap_or(0);
    let mut ticks = year_ticks(first, last);
    if ticks.is_empty() {
        ticks.push(f64::from(first));
    }
    (f64::from(first) - 0.5, f64::from(last) + 0.5, ticks)
}

fn year_of(x: &f64) -> String {
    month_label(x.round() as i32)
        .split('-')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Reviews per month.
pub(crate) fn monthly_volume(t: &TimeSeries) -> Result<String, String> {
    svg(|root| {
        let (low, high, ticks) = month_axis(t);
        let max = t.months.iter().map(|m| m.reviews).max().unwrap_or(0) as f64;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(Ticked::new(low..high, ticks), 0f64..headroom(max))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .label_style(font())
            .x_label_formatter(&year_of)
            .y_label_formatter(&|y| compact(*y))
            .y_desc("reviews per month")
            .axis_desc_style(font())
            .draw()?;
        let numbers = month_numbers(t);
        chart.draw_series(t.months.iter().zip(&numbers).map(|(m, &x)| {
            let x = f64::from(x);
            Rectangle::new(
                [(x - 0.45, 0.0), (x + 0.45, m.reviews as f64)],
                BLUE_.filled(),
            )
        }))?;
        Ok(())
    })
}

/// Mean rating per month, for months with enough reviews.
pub(crate) fn monthly_mean(t: &TimeSeries) -> Result<String, String> {
    svg(|root| {
        let numbers = month_numbers(t);
        let points: Vec<(f64, f64)> = t
            .months
            .iter()
            .zip(&numbers)
            .filter(|(m, _)| m.reviews >= t.min_reviews_for_mean)
            .map(|(m, &x)| (f64::from(x), m.mean_rating))
            .collect();
        // The axis spans the months shown, not the sparse early years.
        let (low, high, ticks) = match (points.first(), points.last()) {
            (Some(first), Some(last)) => {
                let (first, last) = (first.0 as i32, last.0 as i32);
                let mut ticks = year_ticks(first, last);
                if ticks.is_empty() {
                    ticks.push(f64::from(first));
                }
                (f64::from(first) - 0.5, f64::from(last) + 0.5, ticks)
            }
            _ => month_axis(t),
        };
        let min = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let (bottom, top) = if points.is_empty() {
            (1.0, 5.0)
        } else {
            ((min - 0.2).max(1.0).floor(), (max + 0.2).min(5.0).ceil())
        };
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(Ticked::new(low..high, ticks), bottom..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .label_style(font())
            .x_label_formatter(&year_of)
            .y_label_formatter(&|y| format!("{y:.1}"))
            .y_desc("mean rating")
            .axis_desc_style(font())
            .draw()?;
        // Break the line across gaps of left-out months.
        let mut segment: Vec<(f64, f64)> = Vec::new();
        let mut segments = Vec::new();
        for &point in &points {
            if segment.last().is_some_and(|last| point.0 - last.0 > 1.5) {
                segments.push(std::mem::take(&mut segment));
            }
            segment.push(point);
        }
        segments.push(segment);
        for segment in segments {
            chart.draw_series(LineSeries::new(segment, BLUE_.stroke_width(2)))?;
        }
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, BLUE_.filled())))?;
        Ok(())
    })
}

/// User activity and item popularity: how many users (items) have k interactions, log-log.
pub(crate) fn activity(a: &Activity) -> Result<String, String> {
    svg(|root| {
        let series = [("users", &a.users, BLUE_), ("items", &a.items, ORANGE)];
        let max_k = series
            .iter()
            .flat_map(|(_, d, _)| d.frequency.last().map(|f| f[0]))
            .max()
            .unwrap_or(1)
            .max(2) as f64;
        let max_count = series
            .iter()
            .flat_map(|(_, d, _)| d.frequency.iter().map(|f| f[1]))
            .max()
            .unwrap_or(1)
            .max(2) as f64;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (1f64..max_k * 1.5).log_scale(),
                (1f64..max_count * 1.5).log_scale(),
            )?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .label_style(font())
            .x_label_formatter(&|x| compact(*x))
            .y_label_formatter(&|y| compact(*y))
            .x_desc("interactions (k)")
            .y_desc("users or items with k")
            .axis_desc_style(font())
            .draw()?;
        for (name, degrees, colour) in series {
            chart
                .draw_series(degrees.frequency.iter().filter(|f| f[0] > 0).map(|f| {
                    Circle::new((f[0] as f64, f[1] as f64), 3, colour.mix(0.75).filled())
                }))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x, y), 5, colour.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// The Lorenz curve of item popularity, with the line of equality.
pub(crate) fn lorenz(l: &LongTail) -> Result<String, String> {
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .label_style(font())
            .x_label_formatter(&|x| format!("{:.0}%", x * 100.0))
            .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
            .x_desc("items, least popular first")
            .y_desc("share of interactions")
            .axis_desc_style(font())
            .draw()?;
        chart.draw_series(DashedLineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            6,
            4,
            GREY.stroke_width(1),
        ))?;
        let curve: Vec<(f64, f64)> = l.lorenz.iter().map(|p| (p[0], p[1])).collect();
        chart.draw_series(AreaSeries::new(curve.clone(), 0.0, BLUE_.mix(0.15)))?;
        chart.draw_series(LineSeries::new(curve, BLUE_.stroke_width(3)))?;
        if let Some(gini) = l.gini {
            chart.draw_series(std::iter::once(Text::new(
                format!("Gini = {gini:.2}"),
                (0.05, 0.9),
                font(),
            )))?;
        }
        Ok(())
    })
}

/// Review length per star: the interquartile range as a box, the median as a bar across it.
pub(crate) fn length(l: &ByStar<LengthRow>) -> Result<String, String> {
    svg(|root| {
        let max = l.rows.iter().map(|r| r.q3).max().unwrap_or(0) as f64;
        let mut chart = stars_chart(root, headroom(max), &|y| compact(*y), "words (quartiles)")?;
        let rows: Vec<&LengthRow> = l.rows.iter().filter(|r| r.reviews > 0).collect();
        chart.draw_series(rows.iter().map(|r| {
            let x = f64::from(r.stars);
            Rectangle::new(
                [(x - 0.3, f64::from(r.q1)), (x + 0.3, f64::from(r.q3))],
                STAR_COLOURS[usize::from(r.stars) - 1].mix(0.45).filled(),
            )
        }))?;
        chart.draw_series(rows.iter().map(|r| {
            let x = f64::from(r.stars);
            let y = f64::from(r.median);
            PathElement::new(vec![(x - 0.3, y), (x + 0.3, y)], BLACK.stroke_width(3))
        }))?;
        chart.draw_series(rows.iter().map(|r| {
            above(
                format!("{}", r.median),
                (f64::from(r.stars), f64::from(r.q3)),
            )
        }))?;
        Ok(())
    })
}

/// Mean helpful votes per star.
pub(crate) fn votes(v: &ByStar<VotesRow>) -> Result<String, String> {
    svg(|root| {
        let rows: Vec<&VotesRow> = v.rows.iter().filter(|r| r.reviews > 0).collect();
        let max = rows.iter().map(|r| r.mean).fold(0.0, f64::max);
        let mut chart = stars_chart(
            root,
            headroom(max),
            &|y| format!("{y:.1}"),
            "mean helpful votes",
        )?;
        chart.draw_series(rows.iter().map(|r| {
            let x = f64::from(r.stars);
            Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, r.mean)],
                STAR_COLOURS[usize::from(r.stars) - 1].filled(),
            )
        }))?;
        chart.draw_series(rows.iter().map(|r| {
            above(
                format!("{} voted", percent(r.share_voted)),
                (f64::from(r.stars), r.mean),
            )
        }))?;
        Ok(())
    })
}

/// Categorical key points 0..n for bar charts with generated labels.
fn index_axis(n: usize) -> Ticked {
    Ticked::new(-0.5..n as f64 - 0.5, (0..n).map(|i| i as f64).collect())
}

/// Mean rating per price band, with the number of reviews behind each bar.
pub(crate) fn price(p: &Price) -> Result<String, String> {
    svg(|root| {
        let labels: Vec<String> = p.bands.iter().map(|b| b.label.clone()).collect();
        let label = |x: &f64| {
            labels
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(
                index_axis(p.bands.len().max(1)),
                Ticked::new(1.0..5.6, vec![1.0, 2.0, 3.0, 4.0, 5.0]),
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .label_style(small_font())
            .x_label_formatter(&label)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc("mean rating")
            .axis_desc_style(font())
            .draw()?;
        chart.draw_series(p.bands.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new([(x - 0.35, 1.0), (x + 0.35, b.mean_rating)], BLUE_.filled())
        }))?;
        chart.draw_series(p.bands.iter().enumerate().map(|(i, b)| {
            above(
                format!("{:.2}", b.mean_rating),
                (i as f64, b.mean_rating + 0.02),
            )
        }))?;
        chart.draw_series(p.bands.iter().enumerate().map(|(i, b)| {
            Text::new(
                format!("n={}", compact(b.reviews as f64)),
                (i as f64, 1.05),
                (FAMILY, FONT - 6)
                    .into_font()
                    .color(&WHITE)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))?;
        Ok(())
    })
}

/// Rating distribution of verified and unverified reviews side by side.
pub(crate) fn verified(v: &Verified) -> Result<String, String> {
    svg(|root| {
        let max = v
            .groups
            .iter()
            .flat_map(|g| g.shares.iter().copied())
            .fold(0.0, f64::max);
        let mut chart = stars_chart(
            root,
            headroom(max).min(1.05),
            &|y| format!("{:.0}%", y * 100.0),
            "share of the group's reviews",
        )?;
        let width = 0.7 / v.groups.len().max(1) as f64;
        for (g, group) in v.groups.iter().enumerate() {
            let colour = if group.verified { BLUE_ } else { ORANGE };
            let name = format!(
                "{} ({})",
                if group.verified {
                    "verified"
                } else {
                    "unverified"
                },
                thousands(group.reviews)
            );
            let offset = -0.35 + g as f64 * width;
            chart
                .draw_series(group.shares.iter().enumerate().map(move |(i, &s)| {
                    let x = i as f64 + 1.0 + offset;
                    Rectangle::new([(x, 0.0), (x + width * 0.95, s)], colour.filled())
                }))?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled())
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// Shares of test users and test cases below each cold-start threshold.
pub(crate) fn cold_start(c: &ColdStart) -> Result<String, String> {
    svg(|root| {
        let labels: Vec<String> = c
            .rows
            .iter()
            .map(|r| format!("<{}", r.fewer_than))
            .collect();
        let label = |x: &f64| {
            labels
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        };
        let max = c
            .rows
            .iter()
            .map(|r| r.user_share.max(r.test_case_share))
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(
                index_axis(c.rows.len().max(1)),
                0f64..headroom(max).clamp(0.05, 1.1),
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .label_style(font())
            .x_label_formatter(&label)
            .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
            .x_desc("training interactions")
            .y_desc("share of test cases")
            .axis_desc_style(font())
            .draw()?;
        type Share = fn(&ColdStartRow) -> f64;
        let series: [(&str, RGBColor, Share); 2] = [
            ("user", BLUE_, |r| r.user_share),
            ("held-out item", ORANGE, |r| r.test_case_share),
        ];
        for (s, (name, colour, value)) in series.into_iter().enumerate() {
            let offset = -0.35 + s as f64 * 0.35;
            chart
                .draw_series(c.rows.iter().enumerate().map(move |(i, r)| {
                    let x = i as f64 + offset;
                    Rectangle::new([(x, 0.0), (x + 0.33, value(r))], colour.filled())
                }))?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled())
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratings() -> Ratings {
        Ratings {
            n: 10,
            histogram: [1, 1, 2, 2, 4],
            shares: [0.1, 0.1, 0.2, 0.2, 0.4],
            mean: Some(3.7),
            finding: String::new(),
        }
    }

    #[test]
    fn a_chart_is_standalone_svg_with_a_view_box() {
        let svg = super::ratings(&ratings()).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("viewBox=\"0 0 640 380\""));
        assert!(svg.contains("40 %"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn empty_sections_still_draw() {
        let empty = TimeSeries {
            months: Vec::new(),
            min_reviews_for_mean: 20,
            finding: String::new(),
            mean_finding: String::new(),
        };
        assert!(monthly_volume(&empty).is_ok());
        assert!(monthly_mean(&empty).is_ok());
        let long_tail = LongTail {
            gini: None,
            lorenz: Vec::new(),
            top_1pct_share: 0.0,
            top_10pct_share: 0.0,
            top_20pct_share: 0.0,
            finding: String::new(),
        };
        assert!(lorenz(&long_tail).is_ok());
    }

    #[test]
    fn year_ticks_fall_on_januaries() {
        // 2013-06 .. 2015-03 (months since 1970).
        let first = (2013 - 1970) * 12 + 5;
        let last = (2015 - 1970) * 12 + 2;
        let ticks = year_ticks(first, last);
        assert_eq!(
            ticks.iter().map(year_of).collect::<Vec<_>>(),
            ["2014", "2015"]
        );
        assert_eq!(compact(1500.0), "1.5k");
        assert_eq!(compact(10.0), "10");
    }
}
