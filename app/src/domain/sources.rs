//! The sources imported from a repository's files, and which files of a folder or an archive
//! each consists of: a folder the user uploads (the browser sends only these), a zip archive,
//! or a directory on disk all go through [`CatalogImport::entry`]. Four fill the template
//! catalog (Atomic Red Team, CALDERA, LOLBAS, GTFOBins), two the detection rules (Sigma,
//! Elastic's detection rules).
use crate::domain::values::TemplateSource;

/// A source imported from a repository's files: the template catalog's or the detection rules'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum CatalogImport {
    AtomicRedTeam,
    Caldera,
    Lolbas,
    Gtfobins,
    Sigma,
    ElasticRules,
}

impl CatalogImport {
    pub const ALL: [CatalogImport; 6] = [
        CatalogImport::AtomicRedTeam,
        CatalogImport::Caldera,
        CatalogImport::Lolbas,
        CatalogImport::Gtfobins,
        CatalogImport::Sigma,
        CatalogImport::ElasticRules,
    ];

    /// The template catalog's sources.
    pub const TEMPLATES: [CatalogImport; 4] = [
        CatalogImport::AtomicRedTeam,
        CatalogImport::Caldera,
        CatalogImport::Lolbas,
        CatalogImport::Gtfobins,
    ];

    /// The detection rules' sources.
    pub const RULES: [CatalogImport; 2] = [CatalogImport::Sigma, CatalogImport::ElasticRules];

    /// The catalog source its templates are stored under; `None` for the rule sources.
    pub fn template_source(self) -> Option<TemplateSource> {
        match self {
            CatalogImport::AtomicRedTeam => Some(TemplateSource::AtomicRedTeam),
            CatalogImport::Caldera => Some(TemplateSource::Caldera),
            CatalogImport::Lolbas => Some(TemplateSource::Lolbas),
            CatalogImport::Gtfobins => Some(TemplateSource::Gtfobins),
            CatalogImport::Sigma | CatalogImport::ElasticRules => None,
        }
    }

    pub fn of(source: TemplateSource) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.template_source() == Some(source))
    }

    pub fn label(self) -> &'static str {
        match self {
            CatalogImport::Sigma => "Sigma",
            CatalogImport::ElasticRules => "Elastic detection rules",
            other => other
                .template_source()
                .map_or("catalog source", TemplateSource::label),
        }
    }

    /// The short name in element ids, CLI subcommands and REST paths
    /// (`/system/import-<slug>`).
    pub fn slug(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "atomics",
            CatalogImport::Caldera => "caldera",
            CatalogImport::Lolbas => "lolbas",
            CatalogImport::Gtfobins => "gtfobins",
            CatalogImport::Sigma => "sigma",
            CatalogImport::ElasticRules => "elastic-rules",
        }
    }

    /// The upstream licence of the data (SPDX id), stored with every template.
    pub fn license(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "MIT",
            CatalogImport::Caldera => "Apache-2.0",
            CatalogImport::Lolbas | CatalogImport::Gtfobins => "GPL-3.0",
            CatalogImport::Sigma => "DRL-1.1",
            CatalogImport::ElasticRules => "Elastic-2.0",
        }
    }

    /// The upstream repository.
    pub fn repository(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "https://github.com/redcanaryco/atomic-red-team",
            CatalogImport::Caldera => "https://github.com/mitre/stockpile",
            CatalogImport::Lolbas => "https://github.com/LOLBAS-Project/LOLBAS",
            CatalogImport::Gtfobins => "https://github.com/GTFOBins/GTFOBins.github.io",
            CatalogImport::Sigma => "https://github.com/SigmaHQ/sigma",
            CatalogImport::ElasticRules => "https://github.com/elastic/detection-rules",
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
            CatalogImport::Caldera | CatalogImport::Sigma => {
                format!("{}/blob/master/{entry}", self.repository())
            }
            CatalogImport::ElasticRules => format!("{}/blob/main/{entry}", self.repository()),
        }
    }

    /// The files the source consists of, for messages.
    pub fn files(self) -> &'static str {
        match self {
            CatalogImport::AtomicRedTeam => "atomics/<T-id>/T*.yaml",
            CatalogImport::Caldera => "data/abilities/<tactic>/*.yml, data/adversaries/*.yml",
            CatalogImport::Lolbas => "yml/<OSBinaries|OtherMSBinaries|…>/*.yml",
            CatalogImport::Gtfobins => "_gtfobins/<binary>, _data/functions.yml",
            CatalogImport::Sigma => "rules*/**/*.yml (deprecated/ left out)",
            CatalogImport::ElasticRules => "rules/**/*.toml (_deprecated/ left out)",
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
            CatalogImport::Sigma => rules_entry(path, ".yml", "deprecated"),
            CatalogImport::ElasticRules => rules_entry(path, ".toml", "_deprecated"),
        }
    }
}

/// Sigma and Elastic rules: files ending in `extension` under a folder whose name starts with
/// `rules` (`rules/`, `rules-emerging-threats/`, `rules_building_block/`), the `skip` folder
/// left out. The entry is the path from that folder on.
fn rules_entry(path: &str, extension: &str, skip: &str) -> Option<String> {
    let parts = parts(path);
    let at = parts.iter().position(|p| p.starts_with("rules"))?;
    let rest = &parts[at..];
    let file = rest.last()?;
    let folders = &rest[..rest.len() - 1];
    (rest.len() >= 2
        && plain(file)
        && file.ends_with(extension)
        && folders.iter().all(|p| plain(p) && *p != skip))
    .then(|| rest.join("/"))
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
            (
                Sigma,
                "sigma-master/rules/windows/process_creation/x.yml",
                Some("rules/windows/process_creation/x.yml"),
            ),
            (
                Sigma,
                "rules-emerging-threats/2024/x.yml",
                Some("rules-emerging-threats/2024/x.yml"),
            ),
            (Sigma, "sigma-master/deprecated/windows/x.yml", None),
            (Sigma, "rules/deprecated/x.yml", None),
            (Sigma, "rules/windows/README.md", None),
            (Sigma, "tests/x.yml", None),
            (
                ElasticRules,
                "detection-rules-main/rules/windows/x.toml",
                Some("rules/windows/x.toml"),
            ),
            (
                ElasticRules,
                "rules_building_block/x.toml",
                Some("rules_building_block/x.toml"),
            ),
            (ElasticRules, "rules/_deprecated/x.toml", None),
            (ElasticRules, "detection_rules/etc/x.toml", None),
            (ElasticRules, "rules/windows/x.yml", None),
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
        for source in CatalogImport::TEMPLATES {
            let template = source.template_source().unwrap();
            assert_eq!(CatalogImport::of(template), Some(source));
        }
        assert_eq!(
            Sigma.source_url("rules/windows/x.yml"),
            "https://github.com/SigmaHQ/sigma/blob/master/rules/windows/x.yml"
        );
        for source in CatalogImport::RULES {
            assert_eq!(source.template_source(), None);
        }
    }
}
