//! Seatbelt (macOS's sandbox) profiles for the helper, in SBPL. Built on
//! every system so that Linux's tests read them too.

use std::path::{Path, PathBuf};

use super::Request;

/// A path as a Seatbelt string literal.
fn quoted(path: &Path) -> String {
    let text = path.to_string_lossy();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Seatbelt profile of a request (SBPL: later rules win).
pub(super) fn profile(request: &Request) -> String {
    let subpaths = |paths: &[PathBuf]| -> String {
        paths
            .iter()
            .map(|p| format!(" (subpath {})", quoted(p)))
            .collect()
    };
    let workdir = quoted(&request.workdir);
    let read = subpaths(&request.read);
    let write = subpaths(&request.write);
    match request.profile {
        super::Profile::Run => format!(
            "(version 1)\n(deny default)\n(import \"bsd.sb\")\n\
             (allow process-fork process-exec)\n(allow signal (target same-sandbox))\n\
             (allow file-read-metadata)\n\
             (allow file-read* (literal \"/\") (subpath \"/usr\") (subpath \"/System\") (subpath \"/Library/Apple\") (subpath \"/private/etc\") (subpath \"/private/var/db/timezone\") (subpath \"/dev\") (subpath {workdir}){read})\n\
             (allow file-write* (subpath {workdir}){write} (literal \"/dev/null\"))\n\
             (allow network-bind network-inbound (local ip \"localhost:*\"))\n\
             (allow network-outbound (remote ip \"localhost:*\"))\n"
        ),
        super::Profile::Compile => format!(
            "(version 1)\n(allow default)\n(deny network*)\n\
             (deny file-write*)\n(allow file-write* (subpath {workdir}){write} (literal \"/dev/null\"))\n\
             (deny file-read* (subpath \"/Users\"))\n(allow file-read* (subpath {workdir}){read})\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Namespaces, Profile};
    use super::*;

    #[test]
    fn a_seatbelt_profile_quotes_its_paths_and_names_the_run_folder() {
        let request = Request {
            profile: Profile::Run,
            namespaces: Namespaces::None,
            no_network: true,
            landlock: true,
            limits: None,
            per_run: false,
            cgroups: Vec::new(),
            read: vec![PathBuf::from("/opt/a \"b\"")],
            write: vec![PathBuf::from("/tmp/run")],
            workdir: PathBuf::from("/tmp/run"),
            tmp_size: 0,
            command: vec!["x".into()],
        };
        let profile = profile(&request);
        assert!(
            profile.contains("(subpath \"/opt/a \\\"b\\\"\")"),
            "{profile}"
        );
        assert!(
            profile.starts_with("(version 1)\n(deny default)"),
            "{profile}"
        );
    }
}
