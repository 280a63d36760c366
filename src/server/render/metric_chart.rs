//! A model's metrics across the project's versions, as one small SVG line
//! chart per metric, drawn on the server: names are escaped, numbers are
//! the server's, and the colours come from the style sheet's classes (so
//! light and dark both hold). The Model tab shows it as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ollio_domain::number_text;

use super::escape;

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;
/// Room for the value labels on the left and the versions below.
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;
/// Charts drawn at most: a project's metrics are a handful.
const MAX_METRICS: usize = 8;

/// Each metric's chart for `points` (version number → metrics, one per
/// trained version, in order); empty when no version has metrics.
pub fn metric_charts(points: &[(i64, BTreeMap<String, f64>)]) -> String {
    let names: BTreeSet<&str> = points
        .iter()
        .flat_map(|(_, metrics)| metrics.keys().map(String::as_str))
        .collect();
    let mut svg = String::new();
    for name in names.into_iter().take(MAX_METRICS) {
        let series: Vec<(i64, f64)> = points
            .iter()
            .filter_map(|(version, metrics)| metrics.get(name).map(|value| (*version, *value)))
            .filter(|(_, value)| value.is_finite())
            .collect();
        if !series.is_empty() {
            chart(&mut svg, name, &series);
        }
    }
    svg
}

fn chart(svg: &mut String, name: &str, series: &[(i64, f64)]) {
    let low = series.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let high = series
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    // A flat line sits in the middle, labelled once with its value.
    let flat = (high - low).abs() < f64::EPSILON;
    let (low, high) = if flat {
        (low - 1.0, high + 1.0)
    } else {
        (low, high)
    };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let steps = (series.len().max(2) - 1) as f64;
    let x = |index: usize| {
        if series.len() == 1 {
            LEFT + plot_width / 2.0
        } else {
            LEFT + plot_width * index as f64 / steps
        }
    };
    let y = |value: f64| TOP + plot_height * (high - value) / (high - low);
    let name = escape(name);
    let last = series.last().map_or(0.0, |(_, value)| *value);
    let _ = write!(
        svg,
        r#"<figure class="metric-chart"><figcaption><span class="metric-name">{name}</span> <span class="metric-last">{}</span></figcaption><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{name} by version: {}">"#,
        number_text(last),
        series
            .iter()
            .map(|(version, value)| format!("version {version} {}", number_text(*value)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // A baseline, and the highest and lowest value beside the value axis.
    let _ = write!(
        svg,
        r#"<line class="chart-axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>"#,
        bottom = TOP + plot_height,
        right = WIDTH - RIGHT,
    );
    let labels = if flat {
        vec![(last, y(last))]
    } else {
        vec![(high, TOP), (low, TOP + plot_height)]
    };
    for (value, at) in labels {
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            at + 4.0,
            number_text(value),
        );
    }
    let points: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(index, (_, value))| format!("{:.1},{:.1}", x(index), y(*value)))
        .collect();
    let _ = write!(
        svg,
        r#"<polyline class="chart-line" fill="none" points="{}"/>"#,
        points.join(" ")
    );
    for (index, (version, value)) in series.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<circle class="chart-point" cx="{:.1}" cy="{:.1}" r="3"><title>Version {version}: {}</title></circle><text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="middle">v{version}</text>"#,
            x(index),
            y(*value),
            number_text(*value),
            x(index),
            HEIGHT - 6.0,
        );
    }
    svg.push_str("</svg></figure>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn one_chart_per_metric_with_a_point_per_version() {
        let svg = metric_charts(&[
            (1, metrics(&[("accuracy", 0.9), ("loss", 0.4)])),
            (2, metrics(&[("accuracy", 0.95)])),
            (4, metrics(&[("accuracy", 0.97), ("loss", 0.2)])),
        ]);
        assert_eq!(svg.matches("<figure").count(), 2);
        assert_eq!(svg.matches("<polyline").count(), 2);
        // accuracy has three points, loss two.
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("<title>Version 4: 0.97</title>"));
        assert!(svg.contains(">v2</text>"));
        assert!(svg.contains(
            r#"aria-label="accuracy by version: version 1 0.9, version 2 0.95, version 4 0.97""#
        ));
        // The highest value is at the top, the lowest at the bottom.
        assert!(
            svg.contains(r#"points="48.0,96.0 178.0,36.0 308.0,12.0""#),
            "{svg}"
        );
    }

    #[test]
    fn names_are_escaped_and_nothing_is_drawn_without_metrics() {
        let svg = metric_charts(&[(1, metrics(&[("<script>x", 1.0)]))]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;x"));
        // One point (a flat line) sits in the middle, labelled with its value.
        assert!(svg.contains(r#"cx="178.0" cy="54.0""#), "{svg}");
        assert_eq!(svg.matches(r#"text-anchor="end""#).count(), 1);
        assert!(
            svg.contains(r#"y="58.0" text-anchor="end">1</text>"#),
            "{svg}"
        );
        assert_eq!(metric_charts(&[]), "");
        assert_eq!(metric_charts(&[(1, BTreeMap::new())]), "");
    }
}
