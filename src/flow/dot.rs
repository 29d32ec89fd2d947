//! A flow as a Graphviz graph: render with `dot -Tsvg flow.dot > flow.svg`.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::progress_view::human;
use super::report::{JobReport, Report};
use super::status::{JobId, JobStatus};

/// The report's jobs as a Graphviz digraph, laid out left to right: one node per job
/// labelled with its name and status (and time, if it ran) and filled by status, one
/// edge from each input to its dependent. Edges on the critical path are drawn thicker;
/// jobs finished by an earlier run are dashed.
///
/// Node ids are the job names, quoted and escaped; a name used twice gets `#index`
/// appended to its later ids so every job keeps its own node.
///
/// # Examples
/// ```
/// use taskloop::flow::{to_dot, Flow};
/// let mut flow = Flow::new();
/// let a = flow.job("a", || 1);
/// flow.job_after("b", (&a,), |(a,)| *a + 1);
/// let dot = to_dot(&flow.run());
/// assert!(dot.contains("\"a\" -> \"b\""));
/// ```
pub fn to_dot(report: &Report) -> String {
    let ids = node_ids(report);
    let mut out = String::from("digraph flow {\n  rankdir=LR;\n");
    out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
    for (job, id) in report.jobs.iter().zip(&ids) {
        node(&mut out, job, id);
    }
    for (job, to) in report.jobs.iter().zip(&ids) {
        for input in &job.inputs {
            let Some(from) = ids.get(input.index()) else {
                continue;
            };
            let bold = if on_critical_path(report, *input, job.id) {
                " [penwidth=2.5]"
            } else {
                ""
            };
            let _ = writeln!(out, "  \"{}\" -> \"{}\"{bold};", quote(from), quote(to));
        }
    }
    out.push_str("}\n");
    out
}

fn node(out: &mut String, job: &JobReport, id: &str) {
    let mut label = format!("{}\\n{}", quote(&job.name), job.status);
    if let Some(d) = job.duration() {
        let _ = write!(label, " ({})", human(d));
    }
    let mut attrs = format!("label=\"{label}\", fillcolor=\"{}\"", fill(job.status));
    if !job.in_this_run {
        let _ = write!(
            attrs,
            ", style=\"rounded,filled,dashed\", tooltip=\"finished by an earlier run\""
        );
    } else if let Some(error) = &job.error {
        let _ = write!(attrs, ", tooltip=\"{}\"", quote(&error.to_string()));
    }
    let _ = writeln!(out, "  \"{}\" [{attrs}];", quote(id));
}

/// One unique id per job, in declaration order: the name, or `name#index` if an earlier
/// job already has it.
fn node_ids(report: &Report) -> Vec<String> {
    let mut used = HashSet::new();
    let mut ids = Vec::with_capacity(report.jobs.len());
    for (index, job) in report.jobs.iter().enumerate() {
        let mut id = job.name.clone();
        let mut n = index;
        while used.contains(&id) {
            id = format!("{}#{n}", job.name);
            n = n.saturating_add(1);
        }
        used.insert(id.clone());
        ids.push(id);
    }
    ids
}

fn on_critical_path(report: &Report, from: JobId, to: JobId) -> bool {
    report
        .critical_path
        .windows(2)
        .any(|w| w[0] == from && w[1] == to)
}

fn fill(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Done => "#a5d6a7",
        JobStatus::Failed => "#ef9a9a",
        JobStatus::Cancelled => "#bdbdbd",
        JobStatus::UpstreamFailed => "#eeeeee",
        JobStatus::Running => "#90caf9",
        JobStatus::Pending => "#ffffff",
    }
}

/// `text` for the inside of a DOT double-quoted string: backslashes and quotes escaped,
/// line breaks and other control characters turned into spaces.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::error::JobError;
    use std::time::{Duration, Instant};

    fn job(i: usize, name: &str, inputs: &[usize], status: JobStatus) -> JobReport {
        let t0 = Instant::now();
        JobReport {
            id: JobId(i),
            name: name.into(),
            inputs: inputs.iter().map(|&i| JobId(i)).collect(),
            status,
            started: Some(t0),
            finished: status.is_terminal().then(|| t0 + Duration::from_millis(3)),
            attempts: 1,
            error: (status == JobStatus::Failed).then(|| JobError::Cancelled { job: name.into() }),
            in_this_run: true,
        }
    }

    fn report(jobs: Vec<JobReport>, critical_path: &[usize]) -> Report {
        let critical_path = critical_path.iter().map(|&i| JobId(i)).collect();
        Report {
            jobs,
            started: Instant::now(),
            wall_time: Duration::from_millis(5),
            critical_path,
            observer_errors: vec![],
        }
    }

    #[test]
    fn every_job_is_a_node_and_every_input_an_edge() {
        let jobs = vec![
            job(0, "a", &[], JobStatus::Done),
            job(1, "b", &[], JobStatus::Failed),
            job(2, "c", &[0, 1], JobStatus::UpstreamFailed),
            job(3, "d", &[0], JobStatus::Running),
        ];
        let dot = to_dot(&report(jobs, &[0, 3]));
        assert!(dot.starts_with("digraph flow {\n  rankdir=LR;\n") && dot.ends_with("}\n"));
        for (name, status, colour) in [
            ("a", "done", "#a5d6a7"),
            ("b", "failed", "#ef9a9a"),
            ("c", "upstream-failed", "#eeeeee"),
            ("d", "running", "#90caf9"),
        ] {
            let node = format!("  \"{name}\" [label=\"{name}\\n{status}");
            assert!(dot.contains(&node), "{node} in {dot}");
            assert!(
                dot.lines()
                    .any(|l| l.starts_with(&node) && l.contains(colour)),
                "{name} is {colour}"
            );
        }
        assert!(dot.contains("label=\"a\\ndone (3.0ms)\""));
        assert!(
            dot.contains(
                "  \"a\" -> \"c\";\n  \"b\" -> \"c\";\n  \"a\" -> \"d\" [penwidth=2.5];\n"
            ),
            "{dot}"
        );
        assert_eq!(dot.matches("->").count(), 3);
    }

    #[test]
    fn names_are_escaped_and_duplicates_kept_apart() {
        let mut old = job(3, "x", &[], JobStatus::Done);
        old.in_this_run = false;
        let jobs = vec![
            job(0, "a<b & \"c\"", &[], JobStatus::Done),
            job(1, "back\\slash\nnewline", &[0, 7], JobStatus::Done),
            job(2, "a<b & \"c\"", &[1], JobStatus::Done),
            old,
        ];
        let dot = to_dot(&report(jobs, &[]));
        assert!(
            dot.contains("  \"a<b & \\\"c\\\"\" [label=\"a<b & \\\"c\\\"\\ndone"),
            "{dot}"
        );
        assert!(
            dot.contains("  \"a<b & \\\"c\\\"#2\" [label=\"a<b & \\\"c\\\"\\ndone"),
            "{dot}"
        );
        assert!(
            dot.contains("  \"back\\\\slash newline\" -> \"a<b & \\\"c\\\"#2\";"),
            "{dot}"
        );
        assert!(dot.contains("dashed"), "earlier-run jobs are dashed");
        assert_eq!(
            dot.matches("->").count(),
            2,
            "the unknown input 7 has no edge"
        );
        assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    }
}
