//! `--output-as`: the machine-readable forms of command output. `xml` follows Pacemaker's
//! `<pacemaker-result>` envelope where Pacemaker's tool has one; `json` is ours, with the same
//! content.

use clap::ValueEnum;
use tandem_xml::Document;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputAs {
    #[default]
    Text,
    Xml,
    Json,
}

/// The `api-version` Pacemaker 3.0's tools write on `<pacemaker-result>`.
pub const PACEMAKER_API_VERSION: &str = "2.39";

/// Pacemaker's exit-code names (`crm_error -X`), for the `message` of a result.
pub fn exit_message(code: u8) -> &'static str {
    match code {
        0 => "OK",
        1 => "Error occurred",
        64 => "Incorrect usage",
        65 => "Invalid data given",
        66 => "Input file not available",
        78 => "Invalid configuration",
        102 => "Not connected",
        103 => "Update was older than existing configuration",
        _ => "Error occurred",
    }
}

/// `<pacemaker-result api-version=".." request="..">` with its `<status>`, listing `errors`
/// (lines as the text output would print them) when there are any.
pub fn pacemaker_result(request: &str, code: u8, errors: &[String]) -> String {
    let mut doc = Document::with_root("pacemaker-result");
    let root = doc.root().expect("with_root made a root");
    doc.set_attr(root, "api-version", PACEMAKER_API_VERSION);
    doc.set_attr(root, "request", request);
    let status = doc.create_element_with(
        "status",
        &[("code", &code.to_string()), ("message", exit_message(code))],
    );
    doc.append_child(root, status);
    if !errors.is_empty() {
        let list = doc.create_element("errors");
        doc.append_child(status, list);
        for line in errors {
            let e = doc.create_element("error");
            let t = doc.create_text(line);
            doc.append_child(e, t);
            doc.append_child(list, e);
        }
    }
    doc.to_pretty_string()
}

/// The command line as Pacemaker's tools echo it in `request`.
pub fn request_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}
