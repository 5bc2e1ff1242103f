//! Which Python runs snippets: `snippets.python.interpreter` (`python3`
//! from `PATH` by default), asked once what it is. Its answer is cached
//! against a fingerprint of its file, so a warm build starts no Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::snippet::toolchain::{describe_file, find_program};
use crate::store::{Record, Store};

/// What the interpreter says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interpreter {
    /// The real interpreter (`sys.executable`): a launcher such as
    /// pyenv's shim is not run again.
    pub executable: PathBuf,
    /// `3.11.7`.
    pub version: String,
    /// `CPython`, `PyPy`.
    pub implementation: String,
    /// Its folders (`sys.prefix` and the like): a run must read them.
    pub folders: Vec<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct InterpreterRecord {
    fingerprint: String,
    interpreter: Interpreter,
}

/// What the interpreter is asked.
const ASK: &str = "import json, platform, sys
print(json.dumps({'executable': sys.executable, 'version': platform.python_version(),
  'implementation': platform.python_implementation(),
  'folders': sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})}))";

/// What identifies the interpreter `interpreter` found at `path`, from
/// its file alone.
fn fingerprint(interpreter: &str, path: &Path) -> String {
    let mut parts = vec![interpreter.to_owned(), describe_file(path)];
    if let Ok(canonical) = path.canonicalize() {
        parts.push(describe_file(&canonical));
    }
    parts.join("|")
}

/// What identifies the interpreter `interpreter` would be now, without
/// starting it.
pub fn current_fingerprint(interpreter: &str) -> Option<String> {
    find_program(Path::new(interpreter)).map(|path| fingerprint(interpreter, &path))
}

impl Interpreter {
    /// `interpreter` (a name on `PATH` or a path), from the record when
    /// its file is unchanged.
    pub fn detect(interpreter: &str, store: &Store) -> Result<Interpreter, Error> {
        let program = find_program(Path::new(interpreter));
        let fingerprint = program.as_ref().map(|path| fingerprint(interpreter, path));
        let record_path = store.record(Record::Python);
        if let Some(fingerprint) = &fingerprint
            && let Some(record) = store.load_json::<InterpreterRecord>(&record_path)
            && &record.fingerprint == fingerprint
            && record.interpreter.executable.is_file()
        {
            return Ok(record.interpreter);
        }
        let output = Command::new(program.as_deref().unwrap_or(Path::new(interpreter)))
            .args(["-I", "-c", ASK])
            .output()
            .map_err(|source| Error::NoPython {
                interpreter: interpreter.to_owned(),
                source,
            })?;
        let failed = |stderr: String| Error::PythonVersion {
            interpreter: interpreter.to_owned(),
            stderr,
        };
        if !output.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
        let found: Interpreter = serde_json::from_slice(&output.stdout)
            .map_err(|e| failed(format!("it answered something else ({e})")))?;
        if !found.version.starts_with("3.") {
            return Err(failed(format!(
                "it is Python {}; kiln runs Python 3 snippets",
                found.version
            )));
        }
        if let Some(fingerprint) = fingerprint {
            store.store_json(
                &record_path,
                &InterpreterRecord {
                    fingerprint,
                    interpreter: found.clone(),
                },
            )?;
        }
        Ok(found)
    }

    /// `Python 3.11.7` (or `PyPy 3.10.14`), for readers.
    pub fn describe(&self) -> String {
        let name = match self.implementation.as_str() {
            "CPython" | "" => "Python",
            other => other,
        };
        format!("{name} {}", self.version)
    }
}
