//! Where Atomic Red Team files live in a folder the user uploads: shared by the browser, which
//! sends only those files, and the server, which keeps only those.

/// The zip entry an uploaded folder's file becomes, from its path relative to the folder the
/// user picked (the repository, its `atomics` folder or one technique's folder): only
/// `<T-id folder>/T*.yaml` is kept, as `atomics/<T-id folder>/<file>`. Anything else, and
/// any path whose last two parts are not plain names, is not an atomic.
pub fn folder_entry(relative: &str) -> Option<String> {
    let parts: Vec<&str> = relative
        .split(['/', '\\'])
        .filter(|p| !p.is_empty())
        .collect();
    let [.., dir, file] = parts.as_slice() else {
        return None;
    };
    let plain = |p: &str| p != "." && p != ".." && !p.contains(':');
    (plain(dir) && plain(file) && file.starts_with('T') && file.ends_with(".yaml"))
        .then(|| format!("atomics/{dir}/{file}"))
}

#[cfg(test)]
mod tests {
    use super::folder_entry;

    #[test]
    fn only_technique_folders_yaml_files_are_atomics() {
        for (path, entry) in [
            (
                "atomic-red-team/atomics/T1059.001/T1059.001.yaml",
                Some("atomics/T1059.001/T1059.001.yaml"),
            ),
            ("atomics/T1053/T1053.yaml", Some("atomics/T1053/T1053.yaml")),
            ("T1053\\T1053.yaml", Some("atomics/T1053/T1053.yaml")),
            ("atomics/T1053/src/payload.exe", None),
            ("atomics/T1053/T1053.md", None),
            ("atomics/Indexes/index.yaml", None),
            ("T1053.yaml", None),
            ("atomics/../T1053.yaml", None),
            ("", None),
        ] {
            assert_eq!(folder_entry(path).as_deref(), entry, "{path}");
        }
    }
}
