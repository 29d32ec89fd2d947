//! The examples' command lines: `--flag value`, `--flag=value` and switches, `--help`
//! (or `-h`) printing the usage and options and exiting 0, and any mistake naming the
//! flag and showing the usage, with exit code 2.

use std::process::exit;
use std::str::FromStr;

use taskloop::flow::{GanttOptions, GanttRecorder, TraceRecorder};

/// One option: its flag, the name of its value (`None` for a switch), and what it does.
pub struct Opt {
    pub flag: &'static str,
    pub value: Option<&'static str>,
    pub help: &'static str,
}

/// `--trace PATH`, read with [`Cli::trace_file`].
#[allow(dead_code)] // not every example writes traces
pub const TRACE: Opt = Opt {
    flag: "--trace",
    value: Some("PATH"),
    help: "write a Chrome trace (open at ui.perfetto.dev)",
};

/// `--svg PATH`, read with [`Cli::gantt_file`].
#[allow(dead_code)] // not every example draws charts
pub const SVG: Opt = Opt {
    flag: "--svg",
    value: Some("PATH"),
    help: "write a Gantt chart",
};

/// A program's command line.
pub struct Cli {
    pub name: &'static str,
    pub about: &'static str,
    pub options: &'static [Opt],
}

impl Cli {
    /// The `--help` text.
    pub fn help(&self) -> String {
        let mut text = format!("{}\n\n{}\n\noptions:\n", self.about, self.usage());
        for opt in self.options {
            let left = match opt.value {
                Some(v) => format!("{} {v}", opt.flag),
                None => opt.flag.to_owned(),
            };
            text.push_str(&format!("  {left:<24} {}\n", opt.help));
        }
        text.push_str(&format!(
            "  {:<24} {}\n",
            "-h, --help", "print this help and exit"
        ));
        text
    }

    fn usage(&self) -> String {
        let opts: Vec<String> = self
            .options
            .iter()
            .map(|o| match o.value {
                Some(v) => format!("[{} {v}]", o.flag),
                None => format!("[{}]", o.flag),
            })
            .collect();
        format!("usage: {} {}", self.name, opts.join(" "))
    }

    /// The flags given and their values, in order. Prints the help and exits 0 on
    /// `--help`; prints the mistake and the usage and exits 2 on a bad command line.
    pub fn parse(&self) -> Vec<(&'static str, Option<String>)> {
        self.parse_from(std::env::args().skip(1))
            .unwrap_or_else(|e| self.fail(&e))
    }

    fn parse_from(
        &self,
        args: impl Iterator<Item = String>,
    ) -> Result<Vec<(&'static str, Option<String>)>, String> {
        let mut args = args;
        let mut out = Vec::new();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                print!("{}", self.help());
                exit(0);
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg, None),
            };
            let opt = self
                .options
                .iter()
                .find(|o| o.flag == flag)
                .ok_or_else(|| format!("unknown option '{flag}'"))?;
            let value = match (opt.value, inline) {
                (None, None) => None,
                (None, Some(_)) => return Err(format!("{flag} takes no value")),
                (Some(_), Some(v)) => Some(v),
                (Some(name), None) => Some(
                    args.next()
                        .ok_or(format!("{flag} needs a value ({name})"))?,
                ),
            };
            out.push((opt.flag, value));
        }
        Ok(out)
    }

    /// `value` parsed as a `T`, or the program exits naming `flag` and the value.
    pub fn number<T: FromStr>(&self, flag: &str, value: &str) -> T {
        value
            .parse()
            .unwrap_or_else(|_| self.fail(&format!("{flag}: '{value}' is not a valid number")))
    }

    /// A recorder writing a Chrome trace to `path`, or the program exits naming `flag`:
    /// a file that cannot be written is found out before anything runs.
    #[allow(dead_code)] // not every example writes traces
    pub fn trace_file(&self, flag: &str, path: &str) -> TraceRecorder {
        TraceRecorder::to_file(path).unwrap_or_else(|e| self.fail(&format!("{flag}: {e}")))
    }

    /// A recorder writing a Gantt chart to `path`, or the program exits naming `flag`.
    #[allow(dead_code)] // not every example draws charts
    pub fn gantt_file(&self, flag: &str, path: &str) -> GanttRecorder {
        GanttRecorder::to_file(path, GanttOptions::default())
            .unwrap_or_else(|e| self.fail(&format!("{flag}: {e}")))
    }

    /// Prints `message` and the usage to stderr and exits with 2.
    pub fn fail(&self, message: &str) -> ! {
        eprintln!("{}: {message}\n{}\n(try --help)", self.name, self.usage());
        exit(2)
    }
}
