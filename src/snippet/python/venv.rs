//! Packages for Python snippets: `snippets/requirements.txt` (every line
//! pinned with `==`), or the `[project] dependencies` of
//! `snippets/pyproject.toml`, installed once by pip into a virtual
//! environment under the cache, keyed by the requirements and the
//! interpreter. pip installs wheels only (`--only-binary=:all:`), so no
//! package's build code runs on the builder; a package's own code runs
//! only in snippets, inside the walls.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::interpreter::Interpreter;
use crate::error::Error;
use crate::snippet::SNIPPET_DIR;
use crate::store::{Area, Store};

/// A virtual environment, ready.
#[derive(Debug, Clone)]
pub struct Venv {
    /// A hash of what it was made from, for snippet keys.
    pub key: String,
    pub folder: PathBuf,
    /// Its interpreter.
    pub python: PathBuf,
    pub packages: Vec<Package>,
}

/// An installed distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The top-level modules it provides (what `import` names).
    pub modules: Vec<String>,
}

/// A requirement as written, at its line.
#[derive(Debug, Clone, Serialize)]
struct Requirement {
    line: Option<usize>,
    text: String,
}

#[derive(Serialize)]
struct VenvKey<'a> {
    version: &'static str,
    requirements: Vec<&'a str>,
    interpreter: &'a Interpreter,
}

/// The marker of a finished environment, with its packages.
const READY: &str = "kiln-venv.json";

/// What pip installed, as `[{name, version, modules}]`.
const LIST: &str = "import importlib.metadata as m, json
pd = getattr(m, 'packages_distributions', None)
mods = {}
for mod, names in (pd() if pd else {}).items():
    for n in names: mods.setdefault(n, set()).add(mod)
out = []
for d in m.distributions():
    n = d.metadata['Name']
    if n == 'pip': continue
    top = mods.get(n) or set((d.read_text('top_level.txt') or '').split())
    out.append({'name': n, 'version': d.version, 'modules': sorted(top)})
print(json.dumps(sorted(out, key=lambda p: p['name'].lower())))";

/// The environment of the site's requirements, made if it is not there
/// yet (not under `offline`), and whether pip ran; `None` when the site
/// has no requirements.
pub fn prepare_venv(
    root: &Path,
    store: &Store,
    interpreter: &Interpreter,
    offline: bool,
) -> Result<(Option<Venv>, bool), Error> {
    let Some((file, requirements)) = read_requirements(root)? else {
        return Ok((None, false));
    };
    let key = crate::store::key(&VenvKey {
        version: "kiln-venv-v1",
        requirements: requirements.iter().map(|r| r.text.as_str()).collect(),
        interpreter,
    });
    let folder = store.entry(Area::Python, &key, "");
    // Runs start elsewhere: the environment is named by its whole path.
    let folder = std::path::absolute(&folder).unwrap_or(folder);
    let python = venv_python(&folder);
    let ready = folder.join(READY);
    if let Some(packages) = store.load_json::<Vec<Package>>(&ready)
        && python.exists()
    {
        return Ok((
            Some(Venv {
                key,
                folder,
                python,
                packages,
            }),
            false,
        ));
    }
    let fail = |line: Option<usize>, message: String| Error::Dependencies {
        path: file.clone(),
        line,
        message,
    };
    if offline {
        return Err(fail(
            None,
            "`--offline`, and its packages are not installed yet; build once with the network"
                .to_owned(),
        ));
    }
    eprintln!(
        "installing the Python snippets' packages with pip (once per `{}`)",
        file.display()
    );
    let _ = std::fs::remove_dir_all(&folder);
    let made = install(&folder, interpreter, &requirements);
    let packages = match made {
        Ok(packages) => packages,
        Err((line, message)) => {
            let _ = std::fs::remove_dir_all(&folder);
            return Err(fail(line, message));
        }
    };
    store.store_json(&ready, &packages)?;
    Ok((
        Some(Venv {
            key,
            folder,
            python,
            packages,
        }),
        true,
    ))
}

/// The interpreter of the environment in `folder`.
fn venv_python(folder: &Path) -> PathBuf {
    if cfg!(windows) {
        folder.join("Scripts").join("python.exe")
    } else {
        folder.join("bin").join("python")
    }
}

/// Makes the environment and installs `requirements` in it; `Err` has
/// the line of the requirement pip could not meet, where it names one.
fn install(
    folder: &Path,
    interpreter: &Interpreter,
    requirements: &[Requirement],
) -> Result<Vec<Package>, (Option<usize>, String)> {
    let run = |command: &mut Command, what: &str| -> Result<Vec<u8>, String> {
        let output = command
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if output.status.success() {
            return Ok(output.stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR:")).collect();
        let said = if errors.is_empty() {
            stderr.trim().to_owned()
        } else {
            errors.join("\n")
        };
        Err(format!("{what} failed:\n{said}"))
    };
    let none = |message| (None, message);
    if let Some(parent) = folder.parent() {
        std::fs::create_dir_all(parent).map_err(|e| none(e.to_string()))?;
    }
    run(
        Command::new(&interpreter.executable)
            .args(["-I", "-m", "venv"])
            .arg(folder),
        "`python -m venv`",
    )
    .map_err(none)?;
    let list = folder.join("requirements.txt");
    let text: String = requirements
        .iter()
        .map(|r| format!("{}\n", r.text))
        .collect();
    std::fs::write(&list, text).map_err(|e| none(e.to_string()))?;
    let python = venv_python(folder);
    run(
        Command::new(&python)
            .args(["-I", "-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--only-binary=:all:", "-r"])
            .arg(&list),
        "`pip install`",
    )
    .map_err(|message| (blamed_line(&message, requirements), message))?;
    let listed = run(
        Command::new(&python).args(["-I", "-c", LIST]),
        "listing the packages",
    )
    .map_err(none)?;
    serde_json::from_slice(&listed).map_err(|e| none(format!("cannot read the packages: {e}")))
}

/// The line of the first requirement pip's message names.
fn blamed_line(message: &str, requirements: &[Requirement]) -> Option<usize> {
    let message = normalize(message);
    requirements
        .iter()
        .find(|r| {
            let name = normalize(requirement_name(&r.text));
            message
                .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .any(|word| word == name)
        })
        .and_then(|r| r.line)
}

/// A distribution name as pip compares them: lowercase, `_` and `.` as `-`.
fn normalize(name: &str) -> String {
    name.to_lowercase().replace(['_', '.'], "-")
}

/// `requests` of `requests[socks]==2.32.3 ; python_version > "3.8"`.
fn requirement_name(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    &text[..end]
}

/// The site's requirements and the file they are in, each checked to be
/// pinned.
fn read_requirements(root: &Path) -> Result<Option<(PathBuf, Vec<Requirement>)>, Error> {
    let dir = root.join(SNIPPET_DIR);
    let txt = dir.join("requirements.txt");
    let pyproject = dir.join("pyproject.toml");
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })
    };
    let rel = |name: &str| PathBuf::from(SNIPPET_DIR).join(name);
    let (file, requirements) = if txt.is_file() {
        let text = read(&txt)?;
        let requirements: Vec<Requirement> = text
            .lines()
            .enumerate()
            .map(|(i, line)| Requirement {
                line: Some(i + 1),
                text: line
                    .split(" #")
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            })
            .filter(|r| !r.text.is_empty() && !r.text.starts_with('#'))
            .collect();
        (rel("requirements.txt"), requirements)
    } else if pyproject.is_file() {
        let text = read(&pyproject)?;
        let file = rel("pyproject.toml");
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| Error::Dependencies {
                    path: file.clone(),
                    line: None,
                    message: e.message().to_owned(),
                })?;
        let listed = table
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(|d| d.as_array())
            .cloned()
            .unwrap_or_default();
        let requirements: Vec<Requirement> = listed
            .iter()
            .filter_map(|d| d.as_str())
            .map(|d| Requirement {
                line: text.lines().position(|l| l.contains(d)).map(|i| i + 1),
                text: d.trim().to_owned(),
            })
            .collect();
        (file, requirements)
    } else {
        return Ok(None);
    };
    for requirement in &requirements {
        check_pinned(requirement).map_err(|message| Error::Dependencies {
            path: file.clone(),
            line: requirement.line,
            message,
        })?;
    }
    Ok((!requirements.is_empty()).then_some((file, requirements)))
}

/// `name==version`, with extras and markers allowed; nothing looser.
fn check_pinned(requirement: &Requirement) -> Result<(), String> {
    let text = &requirement.text;
    if text.starts_with('-') {
        return Err(format!(
            "`{text}`: pip options are not read here; list pinned packages only (`name==version`), one per line"
        ));
    }
    let spec = text.split(';').next().unwrap_or_default();
    let pinned = spec.split_once("==").is_some_and(|(_, version)| {
        let version = version.trim();
        !version.is_empty() && !version.contains(['*', ',', '<', '>', '=', '!', '~'])
    });
    if pinned {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not pinned; pin it with `==` (such as `{}==1.0.0`), so that every build runs the same code",
            requirement_name(text)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> Requirement {
        Requirement {
            line: Some(3),
            text: text.to_owned(),
        }
    }

    #[test]
    fn pins() {
        assert!(check_pinned(&req("attrs==24.2.0")).is_ok());
        assert!(check_pinned(&req("requests[socks]==2.32.3 ; python_version > \"3.8\"")).is_ok());
        let e = check_pinned(&req("requests>=2")).unwrap_err();
        assert!(e.contains("`requests>=2` is not pinned"), "{e}");
        assert!(check_pinned(&req("attrs==24.*")).is_err());
        assert!(check_pinned(&req("--index-url https://x")).is_err());
    }

    #[test]
    fn blame() {
        let reqs = [
            req("attrs==24.2.0"),
            Requirement {
                line: Some(5),
                text: "No_Such.Pkg==1.0".into(),
            },
        ];
        let message = "ERROR: No matching distribution found for no-such-pkg==1.0";
        assert_eq!(blamed_line(message, &reqs), Some(5));
        assert_eq!(blamed_line("ERROR: something else", &reqs), None);
    }
}
