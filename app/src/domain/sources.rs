//! Where the template catalog's imported procedures come from, and which files of a folder or
//! an archive each source consists of: a folder the user uploads (the browser sends only
//! these), a zip archive, or a directory on disk all go through [`CatalogImport::entry`].
use crate::domain::values::TemplateSource;

/// A source the template catalog imports from a repository's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogImport {
    AtomicRedTeam,
    Caldera,
    Lolbas,
    Gtfobins,
}

impl CatalogImport {
    pub const ALL: [CatalogImport; 4] = [
        CatalogImport::AtomicRedTeam,
        CatalogImport::Caldera,
        CatalogImport::Lolbas,
        CatalogImport::Gtfobins,
    ];

    pub fn template_source(self) -> TemplateSource {
        match self {
            CatalogImport::AtomicRedTeam => TemplateSource::AtomicRedTeam,
            CatalogImport::Caldera => TemplateSource::Caldera,
            CatalogImport::Lolbas => TemplateSource::Lolbas,
            CatalogImport::Gtfobins => TemplateSource::Gtfobins,
        }
    }

    pub fn of(source: TemplateSource) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.template_source() == source)
    }

    pub fn label(self) -> &'static str {
        self.template_source().label()
    }

    /// The short name in element ids, CLI subcommands and REST paths
    /// (`/system/import-<slug>`).
    pub fn slug(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "atomics",
            CatalogImport::Caldera => "caldera",
            CatalogImport::Lolbas => "lolbas",
            CatalogImport::Gtfobins => "gtfobins",
        }
    }

    /// The upstream licence of the data (SPDX id), stored with every template.
    pub fn license(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "MIT",
            CatalogImport::Caldera => "Apache-2.0",
            CatalogImport::Lolbas | CatalogImport::Gtfobins => "GPL-3.0",
        }
    }

    /// The upstream repository.
    pub fn repository(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "https://github.com/redcanaryco/atomic-red-team",
            CatalogImport::Caldera => "https://github.com/mitre/stockpile",
            CatalogImport::Lolbas => "https://github.com/LOLBAS-Project/LOLBAS",
            CatalogImport::Gtfobins => "https://github.com/GTFOBins/GTFOBins.github.io",
        }
    }

    /// Where people read one entry upstream, from its [`entry`](Self::entry) path: the
    /// project's own page where it has one, else the file in the repository.
    pub fn source_url(self, entry: &str) -> String {
        let file = entry.rsplit('/').next().unwrap_or(entry);
        let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
        match self {
            CatalogImport::Lolbas => {
                let folder = entry.split('/').nth(1).unwrap_or_default();
                let kind = match folder {
                    "OSBinaries" => "Binaries",
                    "OSLibraries" => "Libraries",
                    "OSScripts" => "Scripts",
                    "OtherMSBinaries" => "OtherMSBinaries",
                    _ => "",
                };
                if kind.is_empty() {
                    format!("{}/blob/master/{entry}", self.repository())
                } else {
                    format!("https://lolbas-project.github.io/lolbas/{kind}/{stem}/")
                }
            }
            CatalogImport::Gtfobins => format!("https://gtfobins.github.io/gtfobins/{file}/"),
            CatalogImport::AtomicRedTeam => {
                let folder = entry.split('/').nth(1).unwrap_or(stem);
                format!(
                    "{}/blob/master/atomics/{folder}/{folder}.md",
                    self.repository()
                )
            }
            CatalogImport::Caldera => format!("{}/blob/master/{entry}", self.repository()),
        }
    }

    /// The files the source consists of, for messages.
    pub fn files(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "atomics/<T-id>/T*.yaml",
            CatalogImport::Caldera => "data/abilities/<tactic>/*.yml, data/adversaries/*.yml",
            CatalogImport::Lolbas => "yml/<OSBinaries|OtherMSBinaries|…>/*.yml",
            CatalogImport::Gtfobins => "_gtfobins/<binary>, _data/functions.yml",
        }
    }

    /// The place of one of the source's files, from its path in a folder or an archive; `None`
    /// for any other file.
    pub fn entry(self, path: &str) -> Option<String> {
        match self {
            CatalogImport::AtomicRedTeam => atomics_entry(path),
            CatalogImport::Caldera => caldera_entry(path),
            CatalogImport::Lolbas => lolbas_entry(path),
            CatalogImport::Gtfobins => gtfobins_entry(path),
        }
    }
}

fn parts(path: &str) -> Vec<&str> {
    path.split(['/', '\\']).filter(|p| !p.is_empty()).collect()
}

/// A path part that names a file or folder plainly (no `..`, no drive, no hidden file).
fn plain(part: &str) -> bool {
    !part.starts_with('.') && !part.contains(':')
}

fn yaml_file(name: &str) -> bool {
    plain(name) && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// CALDERA (Stockpile): `…/abilities/<tactic>/<id>.yml` and `…/adversaries/[packs/]<id>.yml`.
fn caldera_entry(path: &str) -> Option<String> {
    let parts = parts(path);
    let at = parts
        .iter()
        .rposition(|p| *p == "abilities" || *p == "adversaries")?;
    let rest = &parts[at + 1..];
    let ok = match (parts[at], rest) {
        ("abilities", [tactic, file]) => plain(tactic) && yaml_file(file),
        ("adversaries", [file]) => yaml_file(file),
        ("adversaries", [folder, file]) => plain(folder) && yaml_file(file),
        _ => false,
    };
    ok.then(|| format!("data/{}/{}", parts[at], rest.join("/")))
}

/// The folders of LOLBAS's `yml/`.
pub const LOLBAS_FOLDERS: [&str; 5] = [
    "OSBinaries",
    "OtherMSBinaries",
    "OSLibraries",
    "OSScripts",
    "HonorableMentions",
];

/// LOLBAS: `…/yml/<folder>/<Name>.yml` (or `<folder>/<Name>.yml` of the `yml` folder itself).
fn lolbas_entry(path: &str) -> Option<String> {
    let parts = parts(path);
    let at = parts.iter().rposition(|p| LOLBAS_FOLDERS.contains(p))?;
    let [file] = &parts[at + 1..] else {
        return None;
    };
    yaml_file(file).then(|| format!("yml/{}/{file}", parts[at]))
}

/// GTFOBins: `…/_gtfobins/<binary>` (no extension since 2025) and `…/_data/functions.yml`
/// (the functions' default techniques).
fn gtfobins_entry(path: &str) -> Option<String> {
    let parts = parts(path);
    let at = parts
        .iter()
        .rposition(|p| *p == "_gtfobins" || *p == "_data")?;
    match (parts[at], &parts[at + 1..]) {
        ("_gtfobins", [file]) if plain(file) => Some(format!("_gtfobins/{file}")),
        ("_data", ["functions.yml"]) => Some("_data/functions.yml".into()),
        _ => None,
    }
}

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
    use super::*;

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

    #[test]
    fn each_source_knows_its_files() {
        use CatalogImport::*;
        for (source, path, entry) in [
            (
                Caldera,
                "stockpile-master/data/abilities/discovery/61d9.yml",
                Some("data/abilities/discovery/61d9.yml"),
            ),
            (
                Caldera,
                "abilities/discovery/61d9.yml",
                Some("data/abilities/discovery/61d9.yml"),
            ),
            (
                Caldera,
                "data/adversaries/01c9.yml",
                Some("data/adversaries/01c9.yml"),
            ),
            (
                Caldera,
                "data/adversaries/packs/x.yml",
                Some("data/adversaries/packs/x.yml"),
            ),
            (Caldera, "data/abilities/61d9.yml", None),
            (Caldera, "data/payloads/x.yml", None),
            (Caldera, "data/abilities/discovery/README.md", None),
            (
                Lolbas,
                "LOLBAS-master/yml/OSBinaries/Certutil.yml",
                Some("yml/OSBinaries/Certutil.yml"),
            ),
            (
                Lolbas,
                "OSScripts/Pester.yml",
                Some("yml/OSScripts/Pester.yml"),
            ),
            (Lolbas, "yml/YML-Template.yml", None),
            (Lolbas, "yml/OSBinaries/sub/Certutil.yml", None),
            (
                Gtfobins,
                "GTFOBins.github.io-master/_gtfobins/7z",
                Some("_gtfobins/7z"),
            ),
            (Gtfobins, "_gtfobins/.DS_Store", None),
            (Gtfobins, "_data/functions.yml", Some("_data/functions.yml")),
            (Gtfobins, "_data/contexts.yml", None),
            (Gtfobins, "gtfobins/7z", None),
            (
                AtomicRedTeam,
                "atomics/T1053/T1053.yaml",
                Some("atomics/T1053/T1053.yaml"),
            ),
        ] {
            assert_eq!(source.entry(path).as_deref(), entry, "{source:?} {path}");
        }
    }

    #[test]
    fn source_urls_point_at_the_upstream_page() {
        use CatalogImport::*;
        assert_eq!(
            Lolbas.source_url("yml/OSBinaries/Certutil.yml"),
            "https://lolbas-project.github.io/lolbas/Binaries/Certutil/"
        );
        assert_eq!(
            Gtfobins.source_url("_gtfobins/7z"),
            "https://gtfobins.github.io/gtfobins/7z/"
        );
        assert_eq!(
            Caldera.source_url("data/abilities/discovery/61d9.yml"),
            "https://github.com/mitre/stockpile/blob/master/data/abilities/discovery/61d9.yml"
        );
        assert_eq!(
            AtomicRedTeam.source_url("atomics/T1053/T1053.yaml"),
            "https://github.com/redcanaryco/atomic-red-team/blob/master/atomics/T1053/T1053.md"
        );
        for source in CatalogImport::ALL {
            assert_eq!(CatalogImport::of(source.template_source()), Some(source));
        }
    }
}
