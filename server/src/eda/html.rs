//! [`render_html`]: the report as one self-contained HTML page (inline CSS and SVG, no
//! scripts, nothing fetched), readable from phone to desktop.
//!
//! Every string that comes from the data (dataset and file names, categories, brands, refusal
//! reasons, findings that quote them) goes through [`escape`]; SVG charts come from
//! [`charts`](super::charts), whose text plotters escapes. A Content-Security-Policy forbids
//! scripts and remote content in the page anyway.

use std::fmt::Write;

use super::charts;
use super::numbers::{fixed, p_value, percent, thousands};
use super::report::*;

/// Short names for the correlation matrix headers, in the order of the report's features.
const SHORT_FEATURES: [&str; 7] = [
    "rating",
    "length",
    "votes",
    "verified",
    "date",
    "price",
    "popularity",
];

const STYLE: &str = r#"
:root{--fg:#1d1d1f;--muted:#5f6368;--accent:#3465a4;--line:#e3e5e8}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:#eef0f3}
main{max-width:880px;margin:0 auto;padding:12px}
header h1{font-size:1.55rem;margin:.3em 0 .1em;word-break:break-word}
nav{font-size:.9rem;margin:.4em 0}
nav a{display:inline-block;margin:0 .7em .3em 0;color:var(--accent);text-decoration:none}
section{background:#fff;border-radius:10px;padding:14px 18px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.25rem;margin:.1em 0 .5em}
h3{font-size:1.02rem;margin:1.1em 0 .3em}
.finding{font-weight:600;border-left:4px solid var(--accent);padding:.3em .7em;background:#f2f5fa;margin:.5em 0}
.findings li{margin:.35em 0}
figure{margin:.6em 0}
figure svg{display:block;width:100%;height:auto;max-width:640px;margin:0 auto}
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.9rem;width:100%;margin:.3em 0}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top;white-space:nowrap}
th{font-weight:600;background:#fafbfc}
th:first-child,td:first-child{text-align:left}
td.name{white-space:normal;word-break:break-word;min-width:8em;max-width:22em}
.bar{display:inline-block;height:.65em;background:var(--accent);border-radius:2px;margin-right:.4em;vertical-align:middle}
table.heat td,table.heat th{text-align:center;padding:5px 4px;min-width:3.3em}
table.heat th:first-child{text-align:left}
.note{color:var(--muted);font-size:.88rem}
.kv{max-width:34em}
.kv td,table.coef td{white-space:normal}
.kv td:first-child{color:var(--muted)}
footer{color:var(--muted);font-size:.85rem;text-align:center;margin:20px 0}
@media (max-width:600px){table.heat td,table.heat th{min-width:2.6em;padding:4px 2px;font-size:.72rem}body{font-size:15px}main{padding:6px}section{padding:10px 11px;border-radius:6px;margin:10px 0}table{font-size:.8rem}th,td{padding:3px 5px}header h1{font-size:1.3rem}}
"#;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders `report` as a self-contained HTML page.
pub fn render_html(report: &EdaReport) -> String {
    let mut page = String::with_capacity(256 << 10);
    let name = escape(&report.name);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\
         <title>EDA: {name}</title><style>{STYLE}</style></head><body><main>\
         <header><h1>Exploratory data analysis: {name}</h1>\
         <p class=\"note\">Every number on this page is in <code>stats.json</code> next to it. \
         Each chart has a one-line finding computed from its numbers.</p>\
         <nav>{}</nav></header>",
        [
            ("overview", "Overview"),
            ("ratings", "Ratings"),
            ("time", "Over time"),
            ("activity", "Activity"),
            ("long-tail", "Long tail"),
            ("reviews", "Length & votes"),
            ("price", "Price"),
            ("verified", "Verified"),
            ("groups", "Categories & brands"),
            ("correlation", "Correlations"),
            ("cold-start", "Cold start"),
        ]
        .iter()
        .map(|(id, title)| format!("<a href=\"#{id}\">{title}</a>"))
        .collect::<String>()
    );
    key_findings(&mut page, report);
    overview(&mut page, report);
    section(&mut page, "ratings", "Rating distribution", |out| {
        finding(out, &report.ratings.finding);
        if report.ratings.n > 0 {
            figure(
                out,
                "Star rating histogram",
                charts::ratings(&report.ratings),
            );
            if report.overview.duplicates > 0 {
                note(
                    out,
                    &format!(
                        "Every review and rating record counts here and in the sections below \
                         about reviews ({} in all), records that repeat a (user, item) pair \
                         included; the overview, activity, long tail and cold start count each \
                         pair once.",
                        thousands(report.ratings.n)
                    ),
                );
            }
        }
    });
    section(&mut page, "time", "Ratings over time", |out| {
        let t = &report.time;
        out.push_str("<h3>Reviews per month</h3>");
        finding(out, &t.finding);
        if !t.months.is_empty() {
            figure(out, "Reviews per month", charts::monthly_volume(t));
            out.push_str("<h3>Mean rating per month</h3>");
            finding(out, &t.mean_finding);
            figure(out, "Mean rating per month", charts::monthly_mean(t));
            note(
                out,
                &format!(
                    "Months with fewer than {} reviews are left out of the mean-rating chart.",
                    t.min_reviews_for_mean
                ),
            );
        }
    });
    section(
        &mut page,
        "activity",
        "User activity and item popularity",
        |out| {
            let a = &report.activity;
            finding(out, &a.finding);
            if a.users.count > 0 {
                figure(
                    out,
                    "How many users and items have k interactions, log-log",
                    charts::activity(a),
                );
                degree_table(out, a);
            }
        },
    );
    section(
        &mut page,
        "long-tail",
        "Long tail: Lorenz curve and Gini",
        |out| {
            let l = &report.long_tail;
            finding(out, &l.finding);
            if l.gini.is_some() {
                figure(out, "Lorenz curve of item popularity", charts::lorenz(l));
                note(
                out,
                "The further the curve sags below the diagonal, the more interactions pile up on \
                 few items: the long tail a recommender has to fight.",
            );
            }
        },
    );
    section(
        &mut page,
        "reviews",
        "Review length and helpful votes vs rating",
        |out| {
            out.push_str("<h3>Review length</h3>");
            finding(out, &report.length.finding);
            if report.length.n > 0 {
                figure(
                    out,
                    "Words per review by rating: quartiles (box) and median (line)",
                    charts::length(&report.length),
                );
                note(
                    out,
                    "Boxes span the first to third quartile of words per review; the line and the \
                 number above each box are the median.",
                );
            }
            out.push_str("<h3>Helpful votes</h3>");
            finding(out, &report.votes.finding);
            if report.votes.n > 0 {
                figure(
                    out,
                    "Mean helpful votes by rating",
                    charts::votes(&report.votes),
                );
            }
        },
    );
    section(&mut page, "price", "Price vs rating", |out| {
        let p = &report.price;
        finding(out, &p.finding);
        if !p.bands.is_empty() {
            figure(out, "Mean rating per price band", charts::price(p));
            price_table(out, p);
        }
    });
    section(
        &mut page,
        "verified",
        "Verified vs unverified purchases",
        |out| {
            let v = &report.verified;
            finding(out, &v.finding);
            if !v.groups.is_empty() {
                figure(
                    out,
                    "Rating distribution by verification",
                    charts::verified(v),
                );
                verified_table(out, v);
            }
        },
    );
    section(&mut page, "groups", "Top categories and brands", |out| {
        for groups in [&report.categories, &report.brands] {
            group_tables(out, groups);
        }
    });
    correlations(&mut page, &report.correlation);
    section(&mut page, "cold-start", "Cold-start exposure", |out| {
        let c = &report.cold_start;
        finding(out, &c.finding);
        if c.test_users > 0 {
            figure(
                out,
                "Share of test cases with little training data",
                charts::cold_start(c),
            );
            cold_start_table(out, c);
        }
        note(out, &format!("Protocol: {}.", escape(&c.protocol)));
    });
    let _ = writeln!(
        page,
        "<footer>recsys eda {} · {}</footer></main></body></html>",
        env!("CARGO_PKG_VERSION"),
        name
    );
    page
}

fn section(out: &mut String, id: &str, title: &str, body: impl FnOnce(&mut String)) {
    let _ = write!(out, "<section id=\"{id}\"><h2>{}</h2>", escape(title));
    body(out);
    out.push_str("</section>");
}

fn finding(out: &mut String, text: &str) {
    if !text.is_empty() {
        let _ = write!(out, "<p class=\"finding\">{}</p>", escape(text));
    }
}

fn note(out: &mut String, html: &str) {
    let _ = write!(out, "<p class=\"note\">{html}</p>");
}

fn figure(out: &mut String, label: &str, svg: Result<String, String>) {
    match svg {
        Ok(svg) => {
            let _ = write!(
                out,
                "<figure role=\"img\" aria-label=\"{}\">{svg}</figure>",
                escape(label)
            );
        }
        Err(error) => note(out, &format!("Chart unavailable: {}", escape(&error))),
    }
}

/// A table cell: HTML already escaped, or data-derived text that may wrap.
enum Cell {
    /// Markup or escaped text.
    Html(String),
    /// Escaped data-derived text (a name), allowed to wrap.
    Name(String),
}

impl From<String> for Cell {
    fn from(html: String) -> Self {
        Cell::Html(html)
    }
}

/// A row of cells from `String`s (HTML) and [`name_cell`]s.
macro_rules! cells {
    ($($cell:expr),* $(,)?) => {
        vec![$(Cell::from($cell)),*]
    };
}

/// A cell holding data-derived text, escaped.
fn name_cell(text: &str) -> Cell {
    Cell::Name(escape(text))
}

/// A table with a header row.
fn table(out: &mut String, class: &str, header: &[&str], rows: &[Vec<Cell>]) {
    let _ = write!(out, "<div class=\"wrap\"><table class=\"{class}\">");
    if header.iter().any(|h| !h.is_empty()) {
        out.push_str("<thead><tr>");
        for h in header {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr></thead>");
    }
    out.push_str("<tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = match cell {
                Cell::Html(html) => write!(out, "<td>{html}</td>"),
                Cell::Name(name) => write!(out, "<td class=\"name\">{name}</td>"),
            };
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

fn key_findings(out: &mut String, r: &EdaReport) {
    out.push_str("<section id=\"findings\"><h2>Key findings</h2><ul class=\"findings\">");
    for text in [
        &r.overview.finding,
        &r.ratings.finding,
        &r.long_tail.finding,
        &r.activity.finding,
        &r.time.finding,
        &r.verified.finding,
        &r.price.finding,
        &r.correlation.finding,
        &r.cold_start.finding,
    ] {
        let _ = write!(out, "<li>{}</li>", escape(text));
    }
    out.push_str("</ul></section>");
}

fn overview(out: &mut String, r: &EdaReport) {
    let o = &r.overview;
    section(out, "overview", "Dataset overview", |out| {
        finding(out, &o.finding);
        let dates = match (&o.first_date, &o.last_date) {
            (Some(first), Some(last)) => format!("{first} to {last}"),
            _ => "–".to_owned(),
        };
        let rows: Vec<Vec<Cell>> = [
            (
                "Interactions (distinct user–item pairs)",
                thousands(o.interactions),
            ),
            ("Review and rating records", thousands(o.rated)),
            ("Sequence-file items (no rating)", thousands(o.unrated)),
            (
                "Records repeating a pair (collapsed)",
                thousands(o.duplicates),
            ),
            ("Users", thousands(o.users)),
            ("Items", thousands(o.items)),
            ("Density", format!("{:.4} %", o.density * 100.0)),
            ("Sparsity", format!("{:.4} %", o.sparsity * 100.0)),
            ("Review dates", dates),
            ("Metadata records", thousands(o.products)),
            ("  duplicates (first kept)", thousands(o.duplicate_products)),
            (
                "  describing items without interactions",
                thousands(o.products_without_interactions),
            ),
            (
                "Items with metadata",
                format!(
                    "{} ({})",
                    thousands(o.items_with_metadata),
                    percent(o.metadata_coverage)
                ),
            ),
            ("Refused records", thousands(o.quarantined)),
            ("Id-map records not used", thousands(o.ignored_records)),
        ]
        .into_iter()
        .map(|(k, v)| cells![k.replace("  ", "&nbsp;&nbsp;&nbsp;"), v])
        .collect();
        table(out, "kv", &["", ""], &rows);

        out.push_str("<h3>Inputs</h3>");
        let rows: Vec<Vec<Cell>> = r
            .inputs
            .iter()
            .map(|i| {
                let file = std::path::Path::new(&i.source)
                    .file_name()
                    .map_or_else(|| i.source.clone(), |n| n.to_string_lossy().into_owned());
                cells![
                    name_cell(&file),
                    escape(&i.format),
                    thousands(i.lines),
                    thousands(i.records),
                    thousands(i.malformed),
                ]
            })
            .collect();
        table(
            out,
            "",
            &["source", "format", "lines", "records", "refused"],
            &rows,
        );

        out.push_str("<h3>Missing values per field</h3>");
        let rows: Vec<Vec<Cell>> = o
            .missing
            .iter()
            .filter(|m| m.of > 0)
            .map(|m| {
                cells![
                    format!("{} <code>{}</code>", escape(&m.record), escape(&m.field)),
                    thousands(m.missing),
                    thousands(m.of),
                    percent(m.share),
                ]
            })
            .collect();
        if rows.is_empty() {
            note(out, "No reviews or products with optional fields.");
        } else {
            table(out, "", &["field", "missing", "of", "share"], &rows);
        }

        out.push_str("<h3>Refused records by reason</h3>");
        finding(out, &r.quarantine.finding);
        if !r.quarantine.reasons.is_empty() {
            let rows: Vec<Vec<Cell>> = r
                .quarantine
                .reasons
                .iter()
                .map(|q| {
                    cells![
                        name_cell(&q.reason),
                        thousands(q.count),
                        name_cell(&q.examples.join(", ")),
                    ]
                })
                .collect();
            table(out, "", &["reason", "records", "first seen at"], &rows);
        }
    });
}

fn degree_table(out: &mut String, a: &Activity) {
    let row = |name: &str, d: &Degrees| {
        cells![
            name.to_owned(),
            thousands(d.count),
            fixed(d.mean, 1),
            thousands(d.median),
            thousands(d.p90),
            thousands(d.max),
            percent(d.share_single),
        ]
    };
    table(
        out,
        "",
        &[
            "",
            "count",
            "mean",
            "median",
            "90th pct",
            "max",
            "exactly 1",
        ],
        &[row("users", &a.users), row("items", &a.items)],
    );
}

fn price_table(out: &mut String, p: &Price) {
    let rows: Vec<Vec<Cell>> = p
        .bands
        .iter()
        .map(|b| {
            cells![
                escape(&b.label),
                thousands(b.items),
                thousands(b.reviews),
                fixed(b.mean_rating, 2),
            ]
        })
        .collect();
    table(
        out,
        "",
        &["price", "items", "reviews", "mean rating"],
        &rows,
    );
    note(
        out,
        &format!(
            "{} items with a price, {} reviews of them.",
            thousands(p.items_with_price),
            thousands(p.reviews)
        ),
    );
}

fn verified_table(out: &mut String, v: &Verified) {
    let rows: Vec<Vec<Cell>> = v
        .groups
        .iter()
        .map(|g| {
            cells![
                if g.verified { "verified" } else { "unverified" }.to_owned(),
                thousands(g.reviews),
                fixed(g.mean_rating, 2),
                percent(g.shares[4]),
                percent(g.shares[0] + g.shares[1]),
                g.mean_words.map_or("–".into(), |w| fixed(w, 1)),
                g.mean_votes.map_or("–".into(), |w| fixed(w, 2)),
            ]
        })
        .collect();
    table(
        out,
        "",
        &[
            "",
            "reviews",
            "mean rating",
            "5★",
            "1–2★",
            "mean words",
            "mean votes",
        ],
        &rows,
    );
    match &v.chi_square {
        Some(t) => {
            let warning = if t.min_expected < 5.0 {
                " Some expected counts are below 5: read the p-value with care."
            } else {
                ""
            };
            note(
                out,
                &format!(
                    "Chi-square test of rating (1–5★) against verification: χ² = {}, df = {}, {}, \
                     Cramér's V = {} over {} reviews. V (0 to 1) measures how strong the \
                     association is; the p-value only how sure it is.{warning}",
                    fixed(t.statistic, 2),
                    t.df,
                    p_value(t.p_value),
                    fixed(t.cramers_v, 3),
                    thousands(t.n)
                ),
            );
        }
        None => note(out, "No chi-square test: both groups need reviews."),
    }
}

fn group_tables(out: &mut String, g: &Groups) {
    let kind = escape(&g.kind);
    let plural = escape(&super::findings::plural(&g.kind));
    let _ = write!(out, "<h3>Top {plural} by volume</h3>");
    finding(out, &g.finding);
    if g.by_volume.is_empty() {
        return;
    }
    let max = g
        .by_volume
        .iter()
        .map(|r| r.interactions)
        .max()
        .unwrap_or(1)
        .max(1);
    let rows: Vec<Vec<Cell>> = g
        .by_volume
        .iter()
        .map(|r| {
            cells![
                name_cell(&r.name),
                format!(
                    "<span class=\"bar\" style=\"width:{:.1}em\"></span>{}",
                    5.0 * r.interactions as f64 / max as f64,
                    thousands(r.interactions)
                ),
                thousands(r.items),
                r.mean_rating.map_or("–".into(), |m| fixed(m, 2)),
            ]
        })
        .collect();
    table(
        out,
        "",
        &[&kind, "interactions", "items", "mean rating"],
        &rows,
    );
    let ranked = |title: &str, rows: &[GroupRow], out: &mut String| {
        if rows.is_empty() {
            return;
        }
        let _ = write!(out, "<h3>{title}</h3>");
        let rows: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                cells![
                    name_cell(&r.name),
                    r.mean_rating.map_or("–".into(), |m| fixed(m, 2)),
                    thousands(r.reviews),
                    thousands(r.items),
                ]
            })
            .collect();
        table(out, "", &[&kind, "mean rating", "reviews", "items"], &rows);
    };
    ranked(
        &format!("Best-rated {plural} (at least {} reviews)", g.min_reviews),
        &g.by_rating,
        out,
    );
    ranked(&format!("Lowest-rated {plural}"), &g.lowest_rated, out);
    note(
        out,
        &format!(
            "{} {} in all. A {kind} is {}.",
            thousands(g.total),
            if g.total == 1 { &kind } else { &plural },
            escape(&g.definition)
        ),
    );
}

fn correlations(out: &mut String, c: &Correlations) {
    section(
        out,
        "correlation",
        "Correlations between numeric features",
        |out| {
            finding(out, &c.finding);
            // Only features with at least one coefficient.
            let used: Vec<usize> = (0..c.features.len())
                .filter(|&f| {
                    c.pearson
                        .iter()
                        .chain(&c.spearman)
                        .any(|p| (p.a == f || p.b == f) && p.value.is_some())
                })
                .collect();
            if used.is_empty() {
                return;
            }
            let short = |f: usize| escape(SHORT_FEATURES.get(f).copied().unwrap_or(&c.features[f]));
            for (title, pairs) in [
                ("Pearson r (all reviews)", &c.pearson),
                ("Spearman ρ (sample)", &c.spearman),
            ] {
                let _ = write!(out, "<h3>{title}</h3><div class=\"wrap\"><table class=\"heat\"><thead><tr><th></th>");
                for &f in &used {
                    let _ = write!(out, "<th>{}</th>", short(f));
                }
                out.push_str("</tr></thead><tbody>");
                for &a in &used {
                    let _ = write!(out, "<tr><th>{}</th>", short(a));
                    for &b in &used {
                        if a == b {
                            out.push_str("<td style=\"background:#eee\">1</td>");
                            continue;
                        }
                        let value = pairs
                            .iter()
                            .find(|p| (p.a, p.b) == (a.min(b), a.max(b)))
                            .and_then(|p| p.value);
                        match value {
                            Some(v) => {
                                let (r, g, bl) = if v.r >= 0.0 {
                                    (52, 101, 164)
                                } else {
                                    (192, 57, 43)
                                };
                                let alpha = v.r.abs().min(1.0) * 0.85;
                                let ink = if alpha > 0.5 { "#fff" } else { "#111" };
                                let _ = write!(
                                out,
                                "<td style=\"background:rgba({r},{g},{bl},{alpha:.2});color:{ink}\" \
                                 title=\"{} × {}: {:.3} (95 % CI {:.3} to {:.3}), {}, n = {}\">{:.2}</td>",
                                escape(&c.features[a]),
                                escape(&c.features[b]),
                                v.r,
                                v.ci_low,
                                v.ci_high,
                                p_value(v.p_value),
                                thousands(v.n),
                                v.r
                            );
                            }
                            None => out.push_str("<td>–</td>"),
                        }
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody></table></div>");
            }
            for (title, symbol, pairs) in [
                (
                    "Pearson r: p-values and 95 % confidence intervals",
                    "r",
                    &c.pearson,
                ),
                (
                    "Spearman ρ: p-values and 95 % confidence intervals",
                    "ρ",
                    &c.spearman,
                ),
            ] {
                let rows: Vec<Vec<Cell>> = pairs
                    .iter()
                    .filter_map(|p| p.value.map(|v| (p, v)))
                    .map(|(p, v)| {
                        cells![
                            name_cell(&format!("{} × {}", c.features[p.a], c.features[p.b])),
                            fixed(v.r, 3),
                            format!("[{:.3}, {:.3}]", v.ci_low, v.ci_high),
                            p_value(v.p_value)
                                .replace("p ", "")
                                .replace("< ", "<")
                                .replace("= ", ""),
                            thousands(v.n),
                        ]
                    })
                    .collect();
                let _ = write!(out, "<h3>{title}</h3>");
                table(out, "coef", &["pair", symbol, "95 % CI", "p", "n"], &rows);
            }
            note(out, &escape(&c.method));
        },
    );
}

fn cold_start_table(out: &mut String, c: &ColdStart) {
    let rows: Vec<Vec<Cell>> = c
        .rows
        .iter()
        .map(|r| {
            cells![
                format!("&lt; {}", r.fewer_than),
                format!("{} ({})", thousands(r.users), percent(r.user_share)),
                format!(
                    "{} ({})",
                    thousands(r.test_cases),
                    percent(r.test_case_share)
                ),
                format!("{} ({})", thousands(r.items), percent(r.item_share)),
            ]
        })
        .collect();
    table(
        out,
        "",
        &[
            "training interactions",
            "test users",
            "test cases: held-out item",
            "distinct held-out items",
        ],
        &rows,
    );
    note(
        out,
        &format!(
            "{} test users (one test case each), {} distinct held-out items.",
            thousands(c.test_users),
            thousands(c.test_items)
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("Guitars & Basses"), "Guitars &amp; Basses");
    }
}
