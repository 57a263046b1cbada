//! One-line findings generated from the numbers of each section.
//!
//! Sentences name data-derived strings (categories, brands) as they are: the HTML renderer
//! escapes every finding.

use super::numbers::{fixed, p_value, percent, thousands};
use super::report::*;
use super::stats::FEATURES;

/// Fills the `finding` of every section of `report`.
pub(crate) fn annotate(report: &mut EdaReport) {
    report.overview.finding = overview(&report.overview);
    report.quarantine.finding = quarantine(&report.quarantine, &report.inputs);
    report.ratings.finding = ratings(&report.ratings, &report.overview);
    report.time.finding = volume(&report.time, &report.overview);
    report.time.mean_finding = mean_over_time(&report.time);
    report.activity.finding = activity(&report.activity);
    report.long_tail.finding = long_tail(&report.long_tail);
    report.length.finding = length(&report.length);
    report.votes.finding = votes(&report.votes);
    report.price.finding = price(&report.price, &report.correlation, &report.overview);
    report.verified.finding = verified(&report.verified);
    report.categories.finding = groups(&report.categories);
    report.brands.finding = groups(&report.brands);
    report.correlation.finding = correlation(&report.correlation);
    report.cold_start.finding = cold_start(&report.cold_start);
}

fn overview(o: &Overview) -> String {
    if o.interactions == 0 {
        return format!(
            "No interactions: {} metadata records describe items nobody rated here.",
            thousands(o.products)
        );
    }
    let mut s = format!(
        "{} interactions (distinct user–item pairs) by {} users on {} items: {:.2} % of the \
         user × item matrix is empty",
        thousands(o.interactions),
        thousands(o.users),
        thousands(o.items),
        o.sparsity * 100.0,
    );
    if o.duplicates > 0 {
        s += &format!(
            "; {} records repeat a pair already read and are collapsed into its interaction",
            thousands(o.duplicates)
        );
        if o.rated > 0 {
            s += &format!(
                " (the rating and review statistics count all {} reviews)",
                thousands(o.rated)
            );
        }
    }
    if let (Some(first), Some(last)) = (&o.first_date, &o.last_date) {
        if o.rated > 0 {
            s += &format!("; reviews span {first} to {last}");
        }
    }
    if o.products > 0 {
        s += &format!("; {} of items have metadata", percent(o.metadata_coverage));
    } else {
        s += "; no item metadata";
    }
    s + "."
}

fn quarantine(q: &Quarantine, inputs: &[InputSummary]) -> String {
    if q.total == 0 {
        return "No record was refused: every line parsed.".to_owned();
    }
    let read: u64 = inputs.iter().map(|i| i.records + i.malformed).sum();
    let share = if read > 0 {
        format!(
            " ({} of the records read)",
            percent(q.total as f64 / read as f64)
        )
    } else {
        String::new()
    };
    match q.reasons.first() {
        Some(top) => format!(
            "{} records were refused{share}, most often for \u{201c}{}\u{201d} ({}).",
            thousands(q.total),
            top.reason,
            thousands(top.count)
        ),
        None => format!("{} records were refused{share}.", thousands(q.total)),
    }
}

/// Why there are no reviews to describe: sequence files have neither ratings nor times, and
/// metadata alone has no reviews at all.
fn no_reviews(o: &Overview, what: &str, sequences: &str) -> String {
    if o.unrated > 0 {
        format!("No {what}: {sequences}")
    } else if o.products > 0 {
        format!(
            "No {what}: the data holds {} product records and no review or rating.",
            thousands(o.products)
        )
    } else {
        format!("No {what}: no review or rating was read.")
    }
}

fn ratings(r: &Ratings, o: &Overview) -> String {
    let Some(mean) = r.mean else {
        return no_reviews(
            o,
            "star ratings",
            "sequence files record what was bought, in order, not how it was rated.",
        );
    };
    let (top, top_share) =
        r.shares.iter().enumerate().fold(
            (0, 0.0),
            |best, (i, &s)| if s > best.1 { (i, s) } else { best },
        );
    let low = r.shares[0] + r.shares[1];
    let shape = if top == 4 && top_share > 0.5 {
        "Ratings are skewed"
    } else if top == 4 {
        "5 stars is the most common rating"
    } else {
        "Ratings are spread"
    };
    format!(
        "{shape}: {} are {}, only {} are 1–2 stars; the mean is {}.",
        percent(top_share),
        if top == 0 {
            "1 star".to_owned()
        } else {
            format!("{} stars", top + 1)
        },
        percent(low),
        fixed(mean, 2)
    )
}

fn volume(t: &TimeSeries, o: &Overview) -> String {
    let total: u64 = t.months.iter().map(|m| m.reviews).sum();
    let Some(peak) = t.months.iter().max_by_key(|m| m.reviews) else {
        return no_reviews(
            o,
            "review times",
            "sequence files keep only the order of interactions.",
        );
    };
    let mut seen = 0;
    let half = t
        .months
        .iter()
        .find(|m| {
            seen += m.reviews;
            2 * seen >= total
        })
        .map_or("", |m| m.month.as_str());
    format!(
        "Reviews peak in {} ({} reviews); half of all reviews were written by {half}, over {} months in all.",
        peak.month,
        thousands(peak.reviews),
        t.months.len()
    )
}

fn mean_over_time(t: &TimeSeries) -> String {
    let shown: Vec<&Month> = t
        .months
        .iter()
        .filter(|m| m.reviews >= t.min_reviews_for_mean)
        .collect();
    if t.months.is_empty() {
        return "No review times, so no mean rating over time.".to_owned();
    }
    let (Some(low), Some(high)) = (
        shown
            .iter()
            .min_by(|a, b| a.mean_rating.total_cmp(&b.mean_rating)),
        shown
            .iter()
            .max_by(|a, b| a.mean_rating.total_cmp(&b.mean_rating)),
    ) else {
        return format!(
            "No month has {} reviews or more: too few for a monthly mean.",
            t.min_reviews_for_mean
        );
    };
    let weighted = |months: &[&Month]| {
        let n: u64 = months.iter().map(|m| m.reviews).sum();
        let sum: f64 = months
            .iter()
            .map(|m| m.mean_rating * m.reviews as f64)
            .sum();
        sum / n as f64
    };
    let k = shown.len().min(12);
    let trend = if shown.len() >= 24 {
        format!(
            "; the first 12 such months average {}, the last 12 {}",
            fixed(weighted(&shown[..k]), 2),
            fixed(weighted(&shown[shown.len() - k..]), 2)
        )
    } else {
        String::new()
    };
    format!(
        "Over months with at least {} reviews the mean rating ranges from {} ({}) to {} ({}){trend}.",
        t.min_reviews_for_mean,
        fixed(low.mean_rating, 2),
        low.month,
        fixed(high.mean_rating, 2),
        high.month
    )
}

fn activity(a: &Activity) -> String {
    if a.users.count == 0 {
        return "No interactions.".to_owned();
    }
    format!(
        "The median user has {} interactions and the most active {}; the median item has {}, \
         the most popular {} ({} of users and {} of items have exactly one).",
        thousands(a.users.median),
        thousands(a.users.max),
        thousands(a.items.median),
        thousands(a.items.max),
        percent(a.users.share_single),
        percent(a.items.share_single)
    )
}

fn long_tail(l: &LongTail) -> String {
    let Some(gini) = l.gini else {
        return "No interactions.".to_owned();
    };
    let kind = if gini >= 0.6 {
        "a long tail"
    } else if gini >= 0.3 {
        "a moderate tail"
    } else {
        "a flat popularity"
    };
    format!(
        "Gini {}: {kind}: the top 1 % of items get {} of interactions, the top 10 % get {}, \
         the top 20 % get {}.",
        fixed(gini, 2),
        percent(l.top_1pct_share),
        percent(l.top_10pct_share),
        percent(l.top_20pct_share)
    )
}

fn length(l: &ByStar<LengthRow>) -> String {
    let rows: Vec<&LengthRow> = l.rows.iter().filter(|r| r.reviews > 0).collect();
    let (Some(longest), Some(shortest)) = (
        rows.iter().max_by_key(|r| r.median),
        rows.iter().min_by_key(|r| r.median),
    ) else {
        return "No review text in this data.".to_owned();
    };
    format!(
        "{}-star reviews are the longest (median {} words) and {}-star the shortest (median {} \
         words).",
        longest.stars, longest.median, shortest.stars, shortest.median
    )
}

fn votes(v: &ByStar<VotesRow>) -> String {
    let rows: Vec<&VotesRow> = v.rows.iter().filter(|r| r.reviews > 0).collect();
    let (Some(most), Some(least)) = (
        rows.iter().max_by(|a, b| a.mean.total_cmp(&b.mean)),
        rows.iter().min_by(|a, b| a.mean.total_cmp(&b.mean)),
    ) else {
        return "No helpful-vote data in these files (ratings and sequences have none).".to_owned();
    };
    let voted: f64 = rows.iter().map(|r| r.share_voted * r.reviews as f64).sum();
    if voted < 0.5 {
        return format!(
            "None of the {} reviews with vote data has a helpful vote.",
            thousands(v.n)
        );
    }
    format!(
        "{}-star reviews get the most helpful votes ({} on average) and {}-star the fewest ({}); \
         {} of reviews have at least one vote.",
        most.stars,
        fixed(most.mean, 2),
        least.stars,
        fixed(least.mean, 2),
        percent(voted / v.n as f64)
    )
}

/// Pearson's r of features `a` and `b`, by name.
fn pearson(c: &Correlations, a: &str, b: &str) -> Option<f64> {
    let index = |name: &str| c.features.iter().position(|f| f == name);
    let (a, b) = (index(a)?, index(b)?);
    c.pearson
        .iter()
        .find(|p| (p.a, p.b) == (a.min(b), a.max(b)))?
        .value
        .map(|v| v.r)
}

fn price(p: &Price, c: &Correlations, o: &Overview) -> String {
    if o.rated == 0 {
        return no_reviews(
            o,
            "ratings to set against prices",
            "sequence files have none.",
        );
    }
    let (Some(high), Some(low)) = (
        p.bands
            .iter()
            .max_by(|a, b| a.mean_rating.total_cmp(&b.mean_rating)),
        p.bands
            .iter()
            .min_by(|a, b| a.mean_rating.total_cmp(&b.mean_rating)),
    ) else {
        return "No prices: no item with an interaction has a parsable price.".to_owned();
    };
    let r = pearson(c, FEATURES[0], FEATURES[5])
        .map(|r| format!("; Pearson r(price, rating) = {}", fixed(r, 3)))
        .unwrap_or_default();
    format!(
        "Mean rating is highest at {} ({} over {} reviews) and lowest at {} ({} over {}){r}.",
        high.label,
        fixed(high.mean_rating, 2),
        thousands(high.reviews),
        low.label,
        fixed(low.mean_rating, 2),
        thousands(low.reviews)
    )
}

fn verified(v: &Verified) -> String {
    match &v.groups[..] {
        [] => "No `verified` field in this data (only 2018 reviews have it).".to_owned(),
        [only] => format!(
            "All {} reviews with the field are {}: nothing to compare.",
            thousands(only.reviews),
            if only.verified {
                "verified"
            } else {
                "unverified"
            }
        ),
        [yes, no, ..] => {
            let test = v
                .chi_square
                .map(|t| {
                    format!(
                        "; χ² = {} (df {}), {}, Cramér's V {}",
                        fixed(t.statistic, 1),
                        t.df,
                        p_value(t.p_value),
                        fixed(t.cramers_v, 3)
                    )
                })
                .unwrap_or_default();
            format!(
                "Verified purchases ({} of reviews) rate {} on average, unverified {}{test}.",
                percent(yes.reviews as f64 / v.known as f64),
                fixed(yes.mean_rating, 2),
                fixed(no.mean_rating, 2)
            )
        }
    }
}

fn groups(g: &Groups) -> String {
    let named = |n: u64| {
        if n == 1 {
            g.kind.clone()
        } else {
            plural(&g.kind)
        }
    };
    let Some(largest) = g.by_volume.first() else {
        if g.in_metadata > 0 {
            return format!(
                "{} {} in the metadata, but none of their items has an interaction here.",
                thousands(g.in_metadata),
                named(g.in_metadata)
            );
        }
        return format!("No {} metadata.", g.kind);
    };
    let reviews: u64 = g.by_volume.iter().map(|r| r.reviews).sum();
    let plural = named(g.total);
    let mut s = format!(
        "{} {plural}; the largest is \u{201c}{}\u{201d} ({} interactions, {} items)",
        thousands(g.total),
        largest.name,
        thousands(largest.interactions),
        thousands(largest.items),
    );
    if reviews == 0 {
        return s + ".";
    }
    match (g.by_rating.first(), g.lowest_rated.first()) {
        (Some(best), Some(worst)) => {
            s += &format!(
                "; among those with at least {} reviews the best rated is \u{201c}{}\u{201d} ({} \
                 over {}) and the worst \u{201c}{}\u{201d} ({} over {})",
                g.min_reviews,
                best.name,
                fixed(best.mean_rating.unwrap_or(f64::NAN), 2),
                thousands(best.reviews),
                worst.name,
                fixed(worst.mean_rating.unwrap_or(f64::NAN), 2),
                thousands(worst.reviews)
            );
        }
        (Some(best), None) => {
            s += &format!(
                "; the best rated with at least {} reviews is \u{201c}{}\u{201d} ({} over {})",
                g.min_reviews,
                best.name,
                fixed(best.mean_rating.unwrap_or(f64::NAN), 2),
                thousands(best.reviews)
            );
        }
        _ => s += &format!("; none has {} reviews to rank by rating", g.min_reviews),
    }
    s + "."
}

/// `category` → `categories`, `brand` → `brands`.
pub(crate) fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{noun}s"),
    }
}

fn correlation(c: &Correlations) -> String {
    let strongest = c
        .pearson
        .iter()
        .filter_map(|p| p.value.map(|v| (p, v)))
        .max_by(|(_, x), (_, y)| x.r.abs().total_cmp(&y.r.abs()));
    let Some((pair, value)) = strongest else {
        return "Too few numeric features vary in this data for correlations.".to_owned();
    };
    let rho = c
        .spearman
        .iter()
        .find(|p| (p.a, p.b) == (pair.a, pair.b))
        .and_then(|p| p.value)
        .map(|v| format!(", Spearman ρ = {}", fixed(v.r, 3)))
        .unwrap_or_default();
    let mut s = format!(
        "Strongest correlation: {} × {}, Pearson r = {} (95 % CI {} to {}, {}){rho}",
        c.features[pair.a],
        c.features[pair.b],
        fixed(value.r, 3),
        fixed(value.ci_low, 3),
        fixed(value.ci_high, 3),
        p_value(value.p_value)
    );
    // What goes with the rating, if that is not the strongest pair already.
    let with_rating = c
        .pearson
        .iter()
        .filter(|p| p.a == 0 && p.b != pair.b)
        .filter_map(|p| p.value.map(|v| (p, v)))
        .max_by(|(_, x), (_, y)| x.r.abs().total_cmp(&y.r.abs()));
    if let Some((p, v)) = with_rating {
        if pair.a != 0 {
            s += &format!(
                "; the rating correlates most with {}: r = {}",
                c.features[p.b],
                fixed(v.r, 3)
            );
        }
    }
    s + "."
}

fn cold_start(c: &ColdStart) -> String {
    if c.test_users == 0 {
        return "No user has two interactions: nothing to hold out.".to_owned();
    }
    let row = c.rows.iter().find(|r| r.fewer_than == 5).or(c.rows.last());
    let Some(row) = row else {
        return String::new();
    };
    let unseen = c
        .rows
        .iter()
        .find(|r| r.fewer_than == 1)
        .map(|r| {
            format!(
                " ({} hold out an item never seen in training)",
                percent(r.test_case_share)
            )
        })
        .unwrap_or_default();
    format!(
        "Under leave-last-out, {} of {} test users have fewer than {} training interactions, and \
         {} of test cases hold out an item with fewer than {}{unseen}.",
        percent(row.user_share),
        thousands(c.test_users),
        row.fewer_than,
        percent(row.test_case_share),
        row.fewer_than
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratings_of(histogram: [u64; 5]) -> Ratings {
        let n: u64 = histogram.iter().sum();
        let sum: u64 = histogram.iter().zip(1..).map(|(c, s)| c * s).sum();
        Ratings {
            n,
            histogram,
            shares: histogram.map(|c| c as f64 / n as f64),
            mean: Some(sum as f64 / n as f64),
            finding: String::new(),
        }
    }

    #[test]
    fn rating_finding_names_the_skew() {
        let text = ratings(
            &ratings_of([217, 250, 772, 2084, 6938]),
            &overview_of(2, 11_261, 0, 0),
        );
        assert_eq!(
            text,
            "Ratings are skewed: 68 % are 5 stars, only 4.6 % are 1–2 stars; the mean is 4.49."
        );
        let spread = ratings(
            &ratings_of([30, 20, 10, 20, 20]),
            &overview_of(2, 100, 0, 0),
        );
        assert!(
            spread.starts_with("Ratings are spread: 30 % are 1 star,"),
            "{spread}"
        );
    }

    fn overview_of(interactions: u64, rated: u64, unrated: u64, products: u64) -> Overview {
        let users = interactions.min(2);
        Overview {
            interactions,
            duplicates: rated + unrated - interactions,
            rated,
            unrated,
            users,
            items: users,
            density: 0.0,
            sparsity: 1.0,
            first_date: None,
            last_date: None,
            products,
            duplicate_products: 0,
            products_without_interactions: products,
            items_with_metadata: 0,
            metadata_coverage: 0.0,
            quarantined: 0,
            missing: Vec::new(),
            ignored_records: 0,
            finding: String::new(),
        }
    }

    #[test]
    fn sections_without_reviews_say_why() {
        let empty = Ratings {
            n: 0,
            histogram: [0; 5],
            shares: [0.0; 5],
            mean: None,
            finding: String::new(),
        };
        let metadata = overview_of(0, 0, 0, 1547);
        let text = ratings(&empty, &metadata);
        assert_eq!(
            text,
            "No star ratings: the data holds 1,547 product records and no review or rating."
        );
        let sequences = overview_of(10, 0, 10, 0);
        assert!(ratings(&empty, &sequences).contains("sequence files"));
        let months = TimeSeries {
            months: Vec::new(),
            min_reviews_for_mean: 20,
            finding: String::new(),
            mean_finding: String::new(),
        };
        assert!(volume(&months, &metadata).contains("1,547 product records"));

        // Categories read from metadata whose items nobody reviewed are not "no metadata".
        let groups_of = |in_metadata| Groups {
            kind: "category".into(),
            definition: String::new(),
            total: 0,
            in_metadata,
            by_volume: Vec::new(),
            by_rating: Vec::new(),
            lowest_rated: Vec::new(),
            min_reviews: 20,
            finding: String::new(),
        };
        assert_eq!(
            groups(&groups_of(12)),
            "12 categories in the metadata, but none of their items has an interaction here."
        );
        assert_eq!(groups(&groups_of(0)), "No category metadata.");
    }

    #[test]
    fn the_overview_counts_distinct_pairs_and_says_what_it_collapsed() {
        // 5 rating rows, 2 distinct (user, item) pairs of 2 users and 2 items.
        let mut o = overview_of(2, 5, 0, 0);
        o.density = 0.5;
        o.sparsity = 0.5;
        assert_eq!(
            overview(&o),
            "2 interactions (distinct user–item pairs) by 2 users on 2 items: 50.00 % of the \
             user × item matrix is empty; 3 records repeat a pair already read and are \
             collapsed into its interaction (the rating and review statistics count all 5 \
             reviews); no item metadata."
        );
    }

    #[test]
    fn verified_finding_without_the_field() {
        let v = Verified {
            known: 0,
            groups: Vec::new(),
            chi_square: None,
            finding: String::new(),
        };
        assert!(verified(&v).starts_with("No `verified` field"));
    }
}
