//! GTFOBins entries carry no ATT&CK ids. This is the one table that maps a GTFOBins example
//! (function, context, code) to techniques, documented in the README ("GTFOBins techniques").
//!
//! 1. The function's default from GTFOBins' own `_data/functions.yml` ([`FUNCTIONS`]; a
//!    function the table does not know takes the defaults of the imported `functions.yml`).
//! 2. Refined where the example says more ([`map`]): a shell or command that runs a Unix
//!    shell is T1059.004; reverse and bind shells also use T1095 (raw TCP/UDP); file writes are
//!    T1565.001; library loads T1574.006; uploads may also be T1048 (no C2 channel needed).
//! 3. The context leads where it elevates: `sudo` is T1548.003, `suid` T1548.001,
//!    `capabilities` T1548 (ATT&CK has no sub-technique for it); the function's techniques
//!    follow. `unprivileged` keeps the function's.
//! 4. `inherit` takes the techniques of the entry it leads to (`from:`).
//! 5. An admin may override a function's techniques for the installation
//!    ([`map_with`]); the override replaces steps 1 and 2, the context still leads.
//!
//! The first technique is the template's; every one is kept with the basis of the mapping.

/// A GTFOBins function, its label and its upstream default techniques.
pub struct Function {
    pub name: &'static str,
    pub label: &'static str,
    pub defaults: &'static [&'static str],
    /// What the binary does with it, in Aegis's words ("… spawns an interactive shell").
    pub does: &'static str,
}

/// `_data/functions.yml` at GTFOBins commit 7382261 (2026-04-20).
pub const FUNCTIONS: [Function; 11] = [
    Function {
        name: "shell",
        label: "Shell",
        defaults: &["T1059"],
        does: "spawns an interactive shell",
    },
    Function {
        name: "command",
        label: "Command",
        defaults: &["T1059"],
        does: "runs non-interactive commands",
    },
    Function {
        name: "reverse-shell",
        label: "Reverse shell",
        defaults: &["T1059", "T1071"],
        does: "sends a shell back to a listening attacker",
    },
    Function {
        name: "bind-shell",
        label: "Bind shell",
        defaults: &["T1059", "T1071"],
        does: "binds a shell to a local port for an attacker to connect to",
    },
    Function {
        name: "file-write",
        label: "File write",
        defaults: &["T1565"],
        does: "writes data to local files",
    },
    Function {
        name: "file-read",
        label: "File read",
        defaults: &["T1005"],
        does: "reads data from local files",
    },
    Function {
        name: "upload",
        label: "Upload",
        defaults: &["T1041"],
        does: "sends local files out over the network",
    },
    Function {
        name: "download",
        label: "Download",
        defaults: &["T1105"],
        does: "fetches remote files onto the host",
    },
    Function {
        name: "library-load",
        label: "Library load",
        defaults: &["T1574"],
        does: "loads a shared library of the attacker's",
    },
    Function {
        name: "privilege-escalation",
        label: "Privilege escalation",
        defaults: &["T1548"],
        does: "escalates privileges directly",
    },
    Function {
        name: "inherit",
        label: "Inherit",
        defaults: &[],
        does: "gives access to the functions of another binary",
    },
];

pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The contexts an example works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    Unprivileged,
    Sudo,
    Suid,
    Capabilities,
}

impl Context {
    pub const ALL: [Context; 4] = [
        Context::Unprivileged,
        Context::Sudo,
        Context::Suid,
        Context::Capabilities,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Context::Unprivileged => "unprivileged",
            Context::Sudo => "sudo",
            Context::Suid => "suid",
            Context::Capabilities => "capabilities",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Context::Unprivileged => "Unprivileged",
            Context::Sudo => "Sudo",
            Context::Suid => "SUID",
            Context::Capabilities => "Capabilities",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The technique the context itself is, where it elevates.
    pub fn technique(self) -> Option<&'static str> {
        match self {
            Context::Unprivileged => None,
            Context::Sudo => Some("T1548.003"),
            Context::Suid => Some("T1548.001"),
            Context::Capabilities => Some("T1548"),
        }
    }

    /// Whether the example runs with more privileges than its user has.
    pub fn elevated(self) -> bool {
        self != Context::Unprivileged
    }
}

/// How a mapping was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The function's default (GTFOBins' `functions.yml`), unrefined.
    FunctionDefault,
    /// Refined from the example's code or context by this table.
    Refined,
    /// Taken from the entry an `inherit` example leads to.
    Inherited,
    /// An admin's override of the function's techniques for this installation.
    LocalOverride,
    /// The example's own `mitre:` list upstream.
    UpstreamExample,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::FunctionDefault => "function_default",
            Basis::Refined => "refined",
            Basis::Inherited => "inherited",
            Basis::LocalOverride => "local_override",
            Basis::UpstreamExample => "upstream_example",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Most telling first; never empty.
    pub techniques: Vec<String>,
    pub basis: Basis,
}

/// Whether the code starts a Unix shell (`/bin/sh`, `sh -c`, `exec bash`, …): a word of the
/// code is a shell's name, alone or as a path.
pub fn spawns_unix_shell(code: &str) -> bool {
    const SHELLS: [&str; 6] = ["sh", "bash", "dash", "zsh", "ksh", "ash"];
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-'))
        .filter_map(|word| word.rsplit('/').next())
        .any(|name| SHELLS.contains(&name))
}

/// The techniques of one example. `upstream` is the function's default of the imported
/// `functions.yml`, used for a function this table does not know; `inherited` the techniques
/// of the entry an `inherit` example leads to. `None` when nothing maps the example.
pub fn map(
    function_name: &str,
    context: Context,
    code: &str,
    upstream: &[String],
    inherited: &[String],
) -> Option<Mapping> {
    map_with(function_name, context, code, upstream, inherited, &[])
}

/// [`map`], with an admin's `local` techniques for the function (empty: none) in place of the
/// table's.
pub fn map_with(
    function_name: &str,
    context: Context,
    code: &str,
    upstream: &[String],
    inherited: &[String],
    local: &[String],
) -> Option<Mapping> {
    if !local.is_empty() {
        let mut techniques: Vec<String> = Vec::new();
        for id in local {
            if !techniques.contains(id) {
                techniques.push(id.clone());
            }
        }
        if let Some(elevation) = context.technique() {
            techniques.retain(|t| t != elevation);
            techniques.insert(0, elevation.to_owned());
        }
        return Some(Mapping {
            techniques,
            basis: Basis::LocalOverride,
        });
    }
    let mut techniques: Vec<String> = Vec::new();
    let push = |id: &str, list: &mut Vec<String>| {
        if !list.iter().any(|t| t == id) {
            list.push(id.to_owned());
        }
    };
    let mut refined = false;
    let basis_of_function;
    match function(function_name) {
        Some(f) if f.name == "inherit" => {
            for id in inherited {
                push(id, &mut techniques);
            }
            basis_of_function = Basis::Inherited;
        }
        Some(f) => {
            let shell = spawns_unix_shell(code);
            for id in f.defaults {
                let id = match (*id, f.name) {
                    ("T1059", _) if shell => {
                        refined = true;
                        "T1059.004"
                    }
                    ("T1565", _) => {
                        refined = true;
                        "T1565.001"
                    }
                    ("T1574", _) => {
                        refined = true;
                        "T1574.006"
                    }
                    (id, _) => id,
                };
                push(id, &mut techniques);
            }
            match f.name {
                "reverse-shell" | "bind-shell" => {
                    push("T1095", &mut techniques);
                    refined = true;
                }
                "upload" => {
                    push("T1048", &mut techniques);
                    refined = true;
                }
                _ => {}
            }
            basis_of_function = Basis::FunctionDefault;
        }
        None => {
            for id in upstream {
                push(id, &mut techniques);
            }
            basis_of_function = Basis::FunctionDefault;
        }
    }
    if techniques.is_empty() {
        return None;
    }
    if let Some(elevation) = context.technique() {
        techniques.retain(|t| t != elevation);
        techniques.insert(0, elevation.to_owned());
        refined = true;
    }
    let basis = match basis_of_function {
        Basis::Inherited => Basis::Inherited,
        _ if refined => Basis::Refined,
        other => other,
    };
    Some(Mapping { techniques, basis })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(m: Option<Mapping>) -> (Vec<String>, Option<Basis>) {
        match m {
            Some(m) => (m.techniques, Some(m.basis)),
            None => (Vec::new(), None),
        }
    }

    fn v(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shells_are_unix_shells_when_the_code_starts_one() {
        assert!(spawns_unix_shell("gdb -nx -ex '!/bin/sh' -ex quit"));
        assert!(spawns_unix_shell("awk 'BEGIN {system(\"sh\")}'"));
        assert!(spawns_unix_shell(
            "python -c 'import os; os.execl(\"/bin/bash\", \"bash\")'"
        ));
        assert!(!spawns_unix_shell("7z a -ttar -an -so /path/to/input-file"));
        // A substring is not a shell: `shell`, `ssh`, `bashrc`.
        assert!(!spawns_unix_shell("ssh host; cat ~/.bashrc; echo shell"));
    }

    #[test]
    fn each_function_maps_to_its_defaults_refined_by_the_code() {
        let none: Vec<String> = Vec::new();
        let u = Context::Unprivileged;
        assert_eq!(
            ids(map("shell", u, "x '!/bin/sh'", &none, &none)),
            (v(&["T1059.004"]), Some(Basis::Refined))
        );
        assert_eq!(
            ids(map("shell", u, "irb", &none, &none)),
            (v(&["T1059"]), Some(Basis::FunctionDefault))
        );
        assert_eq!(
            ids(map("file-read", u, "7z a -so f", &none, &none)),
            (v(&["T1005"]), Some(Basis::FunctionDefault))
        );
        assert_eq!(
            ids(map("download", u, "curl x", &none, &none)).0,
            v(&["T1105"])
        );
        assert_eq!(
            ids(map("file-write", u, "x", &none, &none)),
            (v(&["T1565.001"]), Some(Basis::Refined))
        );
        assert_eq!(
            ids(map("library-load", u, "x", &none, &none)).0,
            v(&["T1574.006"])
        );
        assert_eq!(
            ids(map("upload", u, "x", &none, &none)).0,
            v(&["T1041", "T1048"])
        );
        assert_eq!(
            ids(map("reverse-shell", u, "nc -e /bin/sh", &none, &none)).0,
            v(&["T1059.004", "T1071", "T1095"])
        );
        assert_eq!(
            ids(map("bind-shell", u, "x", &none, &none)).0,
            v(&["T1059", "T1071", "T1095"])
        );
        assert_eq!(
            ids(map(
                "privilege-escalation",
                Context::Sudo,
                "x",
                &none,
                &none
            ))
            .0,
            v(&["T1548.003", "T1548"])
        );
    }

    #[test]
    fn an_elevating_context_leads() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            ids(map("shell", Context::Sudo, "sudo x /bin/sh", &none, &none)).0,
            v(&["T1548.003", "T1059.004"])
        );
        assert_eq!(
            ids(map("file-read", Context::Suid, "./x f", &none, &none)).0,
            v(&["T1548.001", "T1005"])
        );
        assert_eq!(
            ids(map("shell", Context::Capabilities, "x", &none, &none)).0,
            v(&["T1548", "T1059"])
        );
    }

    #[test]
    fn a_local_override_replaces_the_function_techniques_and_the_context_still_leads() {
        let none: Vec<String> = Vec::new();
        let local = v(&["T1552.001", "T1552.001", "T1005"]);
        assert_eq!(
            ids(map_with(
                "file-read",
                Context::Unprivileged,
                "x",
                &none,
                &none,
                &local
            )),
            (v(&["T1552.001", "T1005"]), Some(Basis::LocalOverride))
        );
        assert_eq!(
            ids(map_with(
                "file-read",
                Context::Sudo,
                "x",
                &none,
                &none,
                &local
            ))
            .0,
            v(&["T1548.003", "T1552.001", "T1005"])
        );
        assert_eq!(
            map_with("file-read", Context::Unprivileged, "x", &none, &none, &[]),
            map("file-read", Context::Unprivileged, "x", &none, &none)
        );
    }

    #[test]
    fn inherit_follows_its_target_and_unknown_functions_take_the_upstream_default() {
        let none: Vec<String> = Vec::new();
        let python = v(&["T1059.004", "T1005"]);
        assert_eq!(
            ids(map("inherit", Context::Unprivileged, "gdb", &none, &python)),
            (python.clone(), Some(Basis::Inherited))
        );
        assert_eq!(
            ids(map("inherit", Context::Sudo, "gdb", &none, &python)),
            (
                v(&["T1548.003", "T1059.004", "T1005"]),
                Some(Basis::Inherited)
            )
        );
        // Nothing to inherit from: nothing maps it.
        assert_eq!(
            map("inherit", Context::Unprivileged, "x", &none, &none),
            None
        );
        assert_eq!(
            ids(map(
                "new-function",
                Context::Unprivileged,
                "x",
                &v(&["T1999"]),
                &none
            ))
            .0,
            v(&["T1999"])
        );
        assert_eq!(
            map("new-function", Context::Unprivileged, "x", &none, &none),
            None
        );
        // The table knows every function of the shipped functions.yml.
        for name in [
            "shell",
            "command",
            "reverse-shell",
            "bind-shell",
            "file-write",
            "file-read",
            "upload",
            "download",
            "library-load",
            "privilege-escalation",
            "inherit",
        ] {
            assert!(function(name).is_some(), "{name}");
        }
    }
}
