//! The top level (`crm(live)# `).

use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::Level;

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let first = &st.words[0];
    match first.text.to_ascii_lowercase().as_str() {
        "configure" if st.words.len() == 1 => shell.enter("configure"),
        "configure" => {
            // `configure show` from the top: run it in the configure level and come back.
            let was_staged = shell.staged.is_some();
            shell.enter("configure");
            if shell.level != Level::Configure {
                return;
            }
            let mut rest = st.clone();
            rest.words.remove(0);
            if let Some(i) = rest.raw.find("configure") {
                rest.raw = rest.raw[i + "configure".len()..].to_string();
            }
            super::configure::dispatch(shell, &rest);
            if !was_staged {
                shell.leave();
            }
        }
        other => shell.error(format!(
            "{other}: No such command (at this level: {})",
            super::levels::command_names(Level::Root)[..].join(", ")
        )),
    }
}
