//! Which files are Atomic Red Team atomics, wherever they are read from: a folder the user
//! uploads (the browser sends only these), a zip archive, or a directory on disk.

/// The place of an atomics file, `atomics/<technique folder>/T*.yaml`, from its path in a
/// folder or an archive; `None` for any other file. The path may lead there through the
/// repository (`…/atomics/T1053/T1053.yaml`: the two parts after the last `atomics`); without
/// an `atomics` folder in it, it is the atomics folder itself under another name
/// (`my-atomics/T1053/T1053.yaml`) or one technique's folder (`T1053/T1053.yaml`).
pub fn atomics_entry(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let rest = match parts.iter().rposition(|p| *p == "atomics") {
        Some(at) => &parts[at + 1..],
        None if parts.len() <= 3 => &parts[parts.len().saturating_sub(2)..],
        None => return None,
    };
    let [dir, file] = rest else {
        return None;
    };
    let plain = |p: &str| p != "." && p != ".." && !p.contains(':');
    (plain(dir) && plain(file) && file.starts_with('T') && file.ends_with(".yaml"))
        .then(|| format!("atomics/{dir}/{file}"))
}

#[cfg(test)]
mod tests {
    use super::atomics_entry;

    #[test]
    fn only_technique_folders_yaml_files_are_atomics() {
        for (path, entry) in [
            (
                "atomic-red-team-master/atomics/T1059.001/T1059.001.yaml",
                Some("atomics/T1059.001/T1059.001.yaml"),
            ),
            ("atomics/T1053/T1053.yaml", Some("atomics/T1053/T1053.yaml")),
            (
                "my-atomics/T1053/T1053.yaml",
                Some("atomics/T1053/T1053.yaml"),
            ),
            ("T1053\\T1053.yaml", Some("atomics/T1053/T1053.yaml")),
            ("repo/atomics/T1053/src/T1053-helper.yaml", None),
            ("repo/old/T1105/T1105.yaml", None),
            ("atomics/T1053/src/payload.exe", None),
            ("atomics/T1053/T1053.md", None),
            ("atomics/Indexes/index.yaml", None),
            ("T1053.yaml", None),
            ("atomics/../T1053.yaml", None),
            ("", None),
        ] {
            assert_eq!(atomics_entry(path).as_deref(), entry, "{path}");
        }
    }
}
