use super::*;
use crate::flow::error::JobError;
use crate::flow::status::JobId;
use std::time::Duration;

/// old (an earlier run) → a; a, b → c (skipped: b failed); a → d (cancelled).
#[rustfmt::skip]
fn report(wall_ms: u64) -> Report {
    let t0 = Instant::now();
    let at = |m: Option<u64>| m.map(|m| t0 + Duration::from_millis(m));
    let (half, quarter) = (Some(wall_ms / 2), Some(wall_ms / 4));
    let jobs = [
        ("old", &[][..], JobStatus::Done, None, None),
        ("a<b & \"c\"", &[0], JobStatus::Done, Some(0), half),
        ("b", &[], JobStatus::Failed, Some(1), quarter),
        ("c", &[1, 2], JobStatus::UpstreamFailed, None, quarter),
        ("d", &[1], JobStatus::Cancelled, half, Some(wall_ms)),
    ];
    let jobs = jobs.iter().enumerate().map(|(i, &(name, inputs, status, start, end))| JobReport {
        id: JobId(i), name: name.into(), inputs: inputs.iter().map(|&i| JobId(i)).collect(), status,
        started: at(start), finished: at(end), attempts: u32::from(start.is_some()),
        error: (status != JobStatus::Done).then(|| JobError::Cancelled { job: name.into() }),
        in_this_run: i > 0,
    });
    Report { jobs: jobs.collect(), started: t0, wall_time: Duration::from_millis(wall_ms), critical_path: vec![], observer_errors: vec![] }
}

fn svg(report: &Report, options: GanttOptions) -> String {
    let svg = gantt_svg(report, &options);
    assert_well_formed(&svg);
    svg
}

/// Checks that tags nest and close, and that every `&` starts a known entity.
fn assert_well_formed(svg: &str) {
    let mut open = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("tag is closed") + start;
        let tag = &rest[start + 1..end];
        let name = tag.trim_start_matches('/').split([' ', '\n', '/']).next();
        let name = name.unwrap_or("").to_string();
        if tag.starts_with('/') {
            assert_eq!(open.pop(), Some(name), "closing tag {tag}");
        } else if !tag.starts_with('?') && !tag.ends_with('/') {
            open.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    let entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"];
    for (i, _) in svg.match_indices('&') {
        assert!(
            entities.iter().any(|e| svg[i..].starts_with(e)),
            "bare & at {i}"
        );
    }
}

/// The inside of a job's row.
fn row<'a>(svg: &'a str, name: &str) -> &'a str {
    let after = svg
        .split(&format!("data-job=\"{name}\""))
        .nth(1)
        .unwrap_or("");
    after.split("</g>").next().unwrap_or("")
}

#[test]
fn one_group_per_job_of_the_run_with_its_status() {
    let svg = svg(&report(100), GanttOptions::default());
    assert!(svg.contains(r#"<svg xmlns="http://www.w3.org/2000/svg""#));
    assert_eq!(
        svg.matches(r#"<g class="job""#).count(),
        4,
        "no row for `old`"
    );
    let rows = [
        ("a&lt;b &amp; &quot;c&quot;", "done"),
        ("b", "failed"),
        ("c", "upstream-failed"),
        ("d", "cancelled"),
    ];
    for (name, status) in rows {
        let group = format!(r#"<g class="job" data-job="{name}" data-status="{status}">"#);
        assert!(svg.contains(&group), "{group} missing");
    }
    assert!(!svg.contains("a<b"), "names are escaped");
}

#[test]
fn bars_for_started_jobs_and_a_marker_for_the_skipped_one() {
    let svg = svg(&report(100), GanttOptions::default());
    assert!(row(&svg, "b").contains(r##"fill="#e53935""##));
    assert!(row(&svg, "d").contains(r##"fill="#9e9e9e""##));
    assert!(!row(&svg, "c").contains("<rect") && row(&svg, "c").contains(">skipped<"));
    let title = "flow run · wall time 100ms · 1 done, 1 failed, 1 cancelled, 1 upstream-failed";
    assert!(svg.contains(title));
    assert!(svg.contains(">50ms</text>"), "ticks in ms for a short run");
    assert!(gantt_svg(&report(3000), &GanttOptions::default()).contains(">1.5s</text>"));
}

#[test]
fn arrows_follow_the_options() {
    let with = svg(&report(100), GanttOptions::default());
    assert_eq!(
        with.matches("marker-end=").count(),
        3,
        "a→c, b→c, a→d; `old` has no row"
    );
    let title = Some("night <1>".into());
    let without = svg(
        &report(100),
        GanttOptions {
            arrows: false,
            width: 300,
            title,
        },
    );
    assert_eq!(without.matches("marker-end=").count(), 0);
    assert!(without.contains("night &lt;1&gt; · wall time"));
}

#[test]
fn odd_reports_still_make_valid_svg() {
    let mut empty = report(0);
    empty.jobs.clear();
    svg(
        &empty,
        GanttOptions {
            width: 0,
            ..GanttOptions::default()
        },
    );
    let mut odd = report(0);
    odd.jobs[1].inputs.push(JobId(99));
    odd.jobs[2].name = "bell\u{7}\ttab".into();
    let svg = svg(
        &odd,
        GanttOptions {
            width: u32::MAX,
            ..GanttOptions::default()
        },
    );
    assert!(svg.contains("bell\u{fffd}\ttab"));
}

#[test]
fn recorder_writes_the_chart_when_the_run_finishes() {
    let path = std::env::temp_dir().join(format!("taskloop-gantt-{}.svg", std::process::id()));
    let options = GanttOptions {
        arrows: false,
        ..GanttOptions::default()
    };
    let mut rec = GanttRecorder::to_file(&path, options.clone()).expect("writable");
    let report = report(100);
    rec.on_event(&Event::RunFinished {
        at: report.started,
        report: &report,
    });
    let text = std::fs::read_to_string(&path).expect("chart written");
    let _ = std::fs::remove_file(&path);
    assert_eq!(text, gantt_svg(&report, &options));
}
