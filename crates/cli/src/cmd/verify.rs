//! `tandem verify`: checks a CIB for errors, like `crm_verify` — same flags, same output
//! shape, same exit codes.
//!
//! Text output goes to stderr, as `crm_verify` writes it: with `-V`, one line per finding
//! (`error: ...`, `warning: ...`) and then the verdict; without `-V`, the verdict and the hint
//! `-V may provide more details`; with `-q`, nothing. A configuration without findings prints
//! nothing. Exit codes (Pacemaker's `crm_exit_t`): 0 valid; 78 (CRM_EX_CONFIG) errors or
//! warnings found; 66 (CRM_EX_NOINPUT) no input or input that is not XML; 102
//! (CRM_EX_DISCONNECT) `-L` without a running cluster; 64 usage.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tandem_cib::{Cib, DateTime, LoadError, Problem, Verdict, verify_at};

use crate::cibsource::{CibSource, MAX_CIB_FILE_BYTES, NoCluster, read_cib_text, write_atomically};
use crate::output::{OutputAs, pacemaker_result, request_line};

/// Exit codes this command uses (Pacemaker's values).
pub const EXIT_NO_INPUT: u8 = 66;
pub const EXIT_CONFIG: u8 = 78;
pub const EXIT_DISCONNECT: u8 = 102;

/// The hint `crm_verify` prints under the verdict when it was not asked for details.
pub const DETAIL_HINT: &str = "-V may provide more details";

#[derive(Args, Debug, Default)]
pub struct VerifyArgs {
    /// Check the configuration used by the running cluster (with CIB_file set: that file).
    #[arg(short = 'L', long = "live-check")]
    pub live: bool,
    /// Check the configuration in the named file.
    #[arg(short = 'x', long = "xml-file", value_name = "FILE")]
    pub xml_file: Option<PathBuf>,
    /// Check the configuration in the supplied string.
    #[arg(short = 'X', long = "xml-text", value_name = "XML")]
    pub xml_text: Option<String>,
    /// Check the configuration piped in via stdin.
    #[arg(short = 'p', long = "xml-pipe")]
    pub xml_pipe: bool,
    /// Save the verified XML to the named file (most useful with -L).
    #[arg(short = 'S', long = "save-xml", value_name = "FILE")]
    pub save_xml: Option<PathBuf>,
    /// Print each problem found (repeat for more detail).
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing; only the exit code tells.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Output format.
    #[arg(long = "output-as", value_enum, default_value_t)]
    pub output_as: OutputAs,
}

/// Where the CIB text came from, for messages.
struct Input {
    name: String,
    text: String,
}

pub fn run(args: VerifyArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    let input = match read_input(&args, source) {
        Ok(i) => i,
        Err(e) => {
            let code = if e.downcast_ref::<NoCluster>().is_some() {
                EXIT_DISCONNECT
            } else {
                EXIT_NO_INPUT
            };
            return Ok(finish(&args, code, &[format!("tandem verify: {e:#}")]));
        }
    };
    let cib = match Cib::parse(&input.text) {
        Ok(c) => c,
        Err(LoadError::Xml(e)) => {
            let line = format!(
                "tandem verify: {}:{e} (the input is not well-formed XML)",
                input.name
            );
            return Ok(finish(&args, EXIT_NO_INPUT, &[line]));
        }
        Err(e) => {
            let problems = [Problem::error(&input.name, e.to_string())];
            return Ok(report(&args, &problems));
        }
    };
    if let Some(path) = &args.save_xml {
        write_atomically(path, cib.to_xml().as_bytes())?;
    }
    let problems = verify_at(&cib, now());
    if args.verbose >= 2 && args.output_as == OutputAs::Text && !args.quiet {
        eprintln!("info: {}", describe(&input.name, &cib));
    }
    Ok(report(&args, &problems))
}

fn now() -> DateTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    DateTime::from_epoch(secs)
}

/// `-VV`: what was checked.
fn describe(name: &str, cib: &Cib) -> String {
    let c = &cib.config;
    format!(
        "checked {name}: CIB version {}, {} nodes, {} resources, {} constraints",
        cib.version,
        c.nodes.len(),
        c.all_resources().len(),
        c.constraints.len()
    )
}

fn read_input(args: &VerifyArgs, source: &CibSource) -> anyhow::Result<Input> {
    if let Some(path) = &args.xml_file {
        return Ok(Input {
            name: path.display().to_string(),
            text: read_cib_text(path)?,
        });
    }
    if let Some(text) = &args.xml_text {
        return Ok(Input {
            name: "<xml-text>".into(),
            text: text.clone(),
        });
    }
    if args.xml_pipe {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_CIB_FILE_BYTES + 1)
            .read_to_string(&mut text)?;
        if text.len() as u64 > MAX_CIB_FILE_BYTES {
            anyhow::bail!("stdin holds more than the {MAX_CIB_FILE_BYTES} bytes accepted");
        }
        return Ok(Input {
            name: "<stdin>".into(),
            text,
        });
    }
    match source {
        CibSource::File { path, .. } => Ok(Input {
            name: path.display().to_string(),
            text: read_cib_text(path)?,
        }),
        CibSource::Live { run_dir } if args.live => match crate::live::query_xml(run_dir) {
            Ok(text) => Ok(Input {
                name: crate::live::LIVE_CIB_NAME.into(),
                text,
            }),
            Err(e) if e.downcast_ref::<NoCluster>().is_some() => Err(NoCluster {
                run_dir: run_dir.clone(),
                hint: "check a file with -x FILE, or set CIB_file=PATH",
            }
            .into()),
            Err(e) => Err(e),
        },
        CibSource::Live { .. } => anyhow::bail!(
            "no input given: use -x FILE, -X TEXT, -p (stdin), or -L (the running cluster; \
             with CIB_file=PATH, that file)"
        ),
    }
}

/// Prints the findings in the requested form and returns the exit code.
fn report(args: &VerifyArgs, problems: &[Problem]) -> ExitCode {
    let verdict = Verdict::of(problems);
    let code = if verdict == Verdict::Valid {
        0
    } else {
        EXIT_CONFIG
    };
    let lines: Vec<String> = match args.output_as {
        // Machine-readable forms always carry the findings, as crm_verify's XML does.
        OutputAs::Xml | OutputAs::Json => problems
            .iter()
            .map(ToString::to_string)
            .chain(verdict.summary().map(str::to_string))
            .collect(),
        OutputAs::Text => text_report(problems, args.verbose),
    };
    finish(args, code, &lines)
}

/// The text `crm_verify` prints for `problems` at a verbosity (the number of `-V`s). The
/// interactive shell's `verify` prints the same.
pub fn text_report(problems: &[Problem], verbose: u8) -> Vec<String> {
    let mut lines = Vec::new();
    if verbose > 0 {
        lines.extend(problems.iter().map(ToString::to_string));
    }
    if let Some(summary) = Verdict::of(problems).summary() {
        lines.push(summary.to_string());
        if verbose == 0 {
            lines.push(DETAIL_HINT.to_string());
        }
    }
    lines
}

fn finish(args: &VerifyArgs, code: u8, lines: &[String]) -> ExitCode {
    match args.output_as {
        OutputAs::Text if args.quiet => {}
        OutputAs::Text => {
            for l in lines {
                eprintln!("{l}");
            }
        }
        OutputAs::Xml => print!("{}", pacemaker_result(&request_line(), code, lines)),
        OutputAs::Json => {
            let value = serde_json::json!({
                "status": { "code": code, "message": crate::output::exit_message(code) },
                "errors": lines,
            });
            println!("{value:#}");
        }
    }
    ExitCode::from(code)
}
