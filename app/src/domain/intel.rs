//! Threat-intel matching: which ATT&CK techniques, threat actors and software a feed item
//! mentions, and where. One rule set, documented in the README ("Intel matching"):
//!
//! - **Technique ids** (`T1059`, `T1059.001`) anywhere in the text, the raw HTML included, with
//!   word boundaries (`XT1059` and `T10590` are not ids). ATT&CK's own links name
//!   sub-techniques with a slash (`attack.mitre.org/techniques/T1543/003/`): after
//!   `techniques/`, `T1543/003` is `T1543.003`, never `T1543`. Only ids the knowledge base
//!   knows count.
//! - **Names** of techniques (a sub-technique as ATT&CK writes it in full, `Parent: Sub`, since
//!   a bare sub-technique name such as "DNS" or "Python" says little), threat actors and
//!   their aliases, software and its aliases; in the text with the HTML stripped.
//!   A name matches only as whole words: the characters before and after it are not letters,
//!   digits or `_`. Names of one word match in ATT&CK's own spelling (case-sensitive), and
//!   not at all when they are common English words ([`COMMON_WORDS`]); names of several words
//!   match whatever the case. Names shorter than [`MIN_NAME_CHARS`] never match. Where
//!   matches overlap, the longest wins ("Cobalt Strike" over "Cobalt").
//!
//! The matcher is an Aho–Corasick automaton over every name (two: one case-sensitive, one
//! ASCII-case-insensitive), so an item is read once whatever the size of the knowledge base.
use crate::domain::values::string_enum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

string_enum! {
    /// Where an intel item is in its triage.
    #[derive(Default)]
    pub enum IntelStatus ("intel status") {
        #[default]
        New = "new" / "New",
        Relevant = "relevant" / "Relevant",
        Dismissed = "dismissed" / "Dismissed",
    }
}

string_enum! {
    /// A feed's format. Detected from the document when a feed does not say.
    pub enum FeedKind ("feed kind") {
        Rss = "rss" / "RSS",
        Atom = "atom" / "Atom",
        JsonFeed = "json_feed" / "JSON Feed",
    }
}

string_enum! {
    /// What a mention points at in the knowledge base.
    pub enum MentionKind ("mention kind") {
        Technique = "technique" / "Technique",
        Actor = "actor" / "Threat actor",
        Software = "software" / "Software",
    }
}

string_enum! {
    /// The part of an item a mention was found in.
    pub enum MatchField ("field") {
        Title = "title" / "Title",
        Summary = "summary" / "Summary",
        Content = "content" / "Content",
    }
}

/// Names shorter than this (in characters) never match: `at`, `cmd`, `Tor` and the like are
/// everywhere in prose.
pub const MIN_NAME_CHARS: usize = 4;

/// One-word ATT&CK names that are ordinary English words; they never match by name (an item
/// that is about them nearly always names them with more words, or an id).
pub const COMMON_WORDS: &[&str] = &[
    "Account",
    "Agent",
    "Akira",
    "Apple",
    "Archer",
    "Avenger",
    "Bear",
    "Black",
    "Bonsai",
    "Cardinal",
    "Carbon",
    "Cheerscrypt",
    "Chimera",
    "Cleaver",
    "Comet",
    "Crutch",
    "Cuba",
    "Dagger",
    "Domain",
    "Drovorub",
    "Dragonfly",
    "Ember",
    "Empire",
    "Equation",
    "Expand",
    "Explosive",
    "Fire",
    "Flame",
    "Gold",
    "Hacking",
    "Honeybee",
    "Impersonation",
    "Inception",
    "Indicator",
    "Kevin",
    "Leviathan",
    "Machete",
    "Magic",
    "Maze",
    "Mosquito",
    "Net",
    "Night",
    "Orange",
    "Pacu",
    "Patchwork",
    "Ping",
    "Play",
    "Prestige",
    "Proxy",
    "Rancor",
    "Royal",
    "Scarlet",
    "Service",
    "Services",
    "Sharpshooter",
    "Silence",
    "Sliver",
    "Spider",
    "Storm",
    "Strider",
    "Tempest",
    "Tiger",
    "Titan",
    "Torchlight",
    "Turbine",
    "Venom",
    "Volt",
    "Whitefly",
    "Wizard",
    "Zebra",
    "route",
];

/// One name of something in the knowledge base, as the matcher looks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub kind: MentionKind,
    /// `T1059.001`, `G0016`, `S0154`.
    pub mitre_id: String,
    /// The canonical name shown with the match (the technique's or actor's own name).
    pub name: String,
    /// The text looked for (a name or an alias).
    pub pattern: String,
}

/// One thing an item mentions, with what was matched and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntelMatch {
    pub kind: MentionKind,
    pub mitre_id: String,
    pub name: String,
    /// The texts that matched, as they appear in the item (an id, a name, an alias).
    pub matched: Vec<String>,
    pub fields: Vec<MatchField>,
}

/// A part of an item to match: its `text` (HTML stripped) and, for ids, its `raw` form (the
/// HTML, where links carry ids the text no longer shows).
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub field: MatchField,
    pub text: &'a str,
    pub raw: &'a str,
}

/// Whether a name takes part in matching, and how: `None` when it never matches,
/// `Some(true)` when case matters (one word), `Some(false)` otherwise.
pub fn name_rule(name: &str) -> Option<bool> {
    let name = name.trim();
    if name.chars().count() < MIN_NAME_CHARS {
        return None;
    }
    let one_word = !name.contains(char::is_whitespace);
    if one_word && COMMON_WORDS.contains(&name) {
        return None;
    }
    Some(one_word)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when `text[start..end]` is not part of a longer word.
pub fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

fn digits(bytes: &[u8], at: usize, n: usize) -> bool {
    bytes.len() >= at + n && bytes[at..at + n].iter().all(u8::is_ascii_digit)
}

fn boundary_at(text: &str, at: usize) -> bool {
    !text[at..].chars().next().is_some_and(is_word_char)
}

/// Every ATT&CK technique id in `text`, in order, with where it starts: `T1059`,
/// `T1059.001`, and `T1543/003` after `techniques/` (ATT&CK's links) as `T1543.003`.
pub fn technique_ids(text: &str) -> Vec<(String, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'T' || !digits(bytes, i + 1, 4) {
            i += 1;
            continue;
        }
        let before_ok = !text[..i].chars().next_back().is_some_and(is_word_char);
        let after_base = i + 5;
        if !before_ok {
            i = after_base;
            continue;
        }
        let base = &text[i..after_base];
        const LINK: &[u8] = b"techniques/";
        let in_link = i >= LINK.len() && bytes[i - LINK.len()..i].eq_ignore_ascii_case(LINK);
        let sub_sep = bytes.get(after_base).copied();
        let sub = match sub_sep {
            Some(b'.') if digits(bytes, after_base + 1, 3) && boundary_at(text, after_base + 4) => {
                Some(&text[after_base + 1..after_base + 4])
            }
            Some(b'/')
                if in_link
                    && digits(bytes, after_base + 1, 3)
                    && boundary_at(text, after_base + 4) =>
            {
                Some(&text[after_base + 1..after_base + 4])
            }
            _ => None,
        };
        match sub {
            Some(sub) => {
                out.push((format!("{base}.{sub}"), i));
                i = after_base + 4;
            }
            None if boundary_at(text, after_base)
                && !(sub_sep == Some(b'.') && digits(bytes, after_base + 1, 1)) =>
            {
                out.push((base.to_owned(), i));
                i = after_base;
            }
            None => i = after_base,
        }
    }
    out
}

/// What the matcher found, before it is grouped per mention.
struct Found {
    term: usize,
    text: String,
    field: MatchField,
}

/// The compiled knowledge base: technique ids and every name, ready to match items.
pub struct Matcher {
    terms: Vec<Term>,
    /// Technique id → its canonical name.
    ids: HashMap<String, String>,
    exact: Option<(aho_corasick::AhoCorasick, Vec<Vec<usize>>)>,
    folded: Option<(aho_corasick::AhoCorasick, Vec<Vec<usize>>)>,
}

impl Matcher {
    /// `techniques` are (id, name) of every technique ids may match; `terms` every name.
    pub fn new(techniques: impl IntoIterator<Item = (String, String)>, terms: Vec<Term>) -> Self {
        let ids: HashMap<String, String> = techniques.into_iter().collect();
        // Patterns are unique per automaton; several terms may share one (an alias of two
        // actors, a name that is both software and an actor's alias).
        let mut exact: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut folded: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, term) in terms.iter().enumerate() {
            match name_rule(&term.pattern) {
                None => {}
                Some(true) => exact
                    .entry(term.pattern.trim().to_owned())
                    .or_default()
                    .push(index),
                Some(false) => folded
                    .entry(term.pattern.trim().to_ascii_lowercase())
                    .or_default()
                    .push(index),
            }
        }
        let build = |patterns: BTreeMap<String, Vec<usize>>, fold: bool| {
            if patterns.is_empty() {
                return None;
            }
            let (keys, owners): (Vec<String>, Vec<Vec<usize>>) = patterns.into_iter().unzip();
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(fold)
                .match_kind(aho_corasick::MatchKind::Standard)
                .build(&keys)
                .ok()
                .map(|automaton| (automaton, owners))
        };
        Self {
            terms,
            ids,
            exact: build(exact, false),
            folded: build(folded, true),
        }
    }

    /// How many names the matcher looks for.
    pub fn names(&self) -> usize {
        self.terms.len()
    }

    /// Everything `parts` mention, one entry per thing, sorted by kind and id.
    pub fn scan(&self, parts: &[Part<'_>]) -> Vec<IntelMatch> {
        let mut found: Vec<Found> = Vec::new();
        let mut ids: Vec<(String, String, MatchField)> = Vec::new();
        for part in parts {
            let mut seen = HashSet::new();
            for source in [part.text, part.raw] {
                for (id, _) in technique_ids(source) {
                    if self.ids.contains_key(&id) && seen.insert(id.clone()) {
                        ids.push((id.clone(), id, part.field));
                    }
                }
            }
            self.names_in(part.field, part.text, &mut found);
        }
        let mut grouped: BTreeMap<(MentionKind, String), IntelMatch> = BTreeMap::new();
        let mut add = |kind: MentionKind, id: &str, name: &str, text: String, field: MatchField| {
            let entry = grouped
                .entry((kind, id.to_owned()))
                .or_insert_with(|| IntelMatch {
                    kind,
                    mitre_id: id.to_owned(),
                    name: name.to_owned(),
                    matched: Vec::new(),
                    fields: Vec::new(),
                });
            if !entry.matched.contains(&text) {
                entry.matched.push(text);
            }
            if !entry.fields.contains(&field) {
                entry.fields.push(field);
            }
        };
        for (id, text, field) in ids {
            let name = self.ids.get(&id).cloned().unwrap_or_default();
            add(MentionKind::Technique, &id, &name, text, field);
        }
        for f in found {
            let term = &self.terms[f.term];
            add(term.kind, &term.mitre_id, &term.name, f.text, f.field);
        }
        grouped
            .into_values()
            .map(|mut m| {
                m.fields.sort();
                m
            })
            .collect()
    }

    fn names_in(&self, field: MatchField, text: &str, out: &mut Vec<Found>) {
        // (start, end, owners) of every whole-word hit of either automaton.
        let mut hits: Vec<(usize, usize, &Vec<usize>)> = Vec::new();
        for (automaton, owners) in [&self.exact, &self.folded].into_iter().flatten() {
            for hit in automaton.find_overlapping_iter(text) {
                if whole_word(text, hit.start(), hit.end()) {
                    hits.push((hit.start(), hit.end(), &owners[hit.pattern().as_usize()]));
                }
            }
        }
        // Leftmost, then longest; a hit inside or across an earlier kept one is dropped.
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut end = 0;
        for (start, stop, owners) in hits {
            if start < end {
                continue;
            }
            end = stop;
            for &term in owners {
                out.push(Found {
                    term,
                    text: text[start..stop].to_owned(),
                    field,
                });
            }
        }
    }
}

/// The terms of a technique: its name, or for a sub-technique `Parent: Sub`.
pub fn technique_term(mitre_id: &str, name: &str, parent_name: Option<&str>) -> Term {
    let full = match parent_name {
        Some(parent) => format!("{parent}: {name}"),
        None => name.to_owned(),
    };
    Term {
        kind: MentionKind::Technique,
        mitre_id: mitre_id.to_owned(),
        name: full.clone(),
        pattern: full,
    }
}

/// The terms of an actor or a piece of software: its name and each alias.
pub fn named_terms(kind: MentionKind, mitre_id: &str, name: &str, aliases: &[String]) -> Vec<Term> {
    let mut patterns: Vec<&str> = vec![name];
    for alias in aliases {
        if !patterns.contains(&alias.as_str()) {
            patterns.push(alias);
        }
    }
    patterns
        .into_iter()
        .map(|pattern| Term {
            kind,
            mitre_id: mitre_id.to_owned(),
            name: name.to_owned(),
            pattern: pattern.to_owned(),
        })
        .collect()
}

/// Why a technique that new intel mentions needs a lead's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    NotCovered,
    /// Tests exist, but none has been validated.
    NeverValidated,
    /// The last validation is older than the configured age.
    Stale(chrono::DateTime<chrono::Utc>),
}

impl Attention {
    pub fn describe(self) -> String {
        match self {
            Attention::NotCovered => "not covered".into(),
            Attention::NeverValidated => "never validated".into(),
            Attention::Stale(at) => format!("last validated {}", at.format("%Y-%m-%d")),
        }
    }
}

/// The scan's rule: a mentioned technique needs attention when it is not covered, or when
/// its last validation is older than `stale_days` (or there is none).
pub fn attention(
    status: crate::domain::coverage::CoverageStatus,
    last_validated: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    stale_days: u32,
) -> Option<Attention> {
    if status == crate::domain::coverage::CoverageStatus::NotCovered {
        return Some(Attention::NotCovered);
    }
    match last_validated {
        None => Some(Attention::NeverValidated),
        Some(at) if now - at > chrono::Duration::days(i64::from(stale_days)) => {
            Some(Attention::Stale(at))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_follows_coverage_and_age() {
        use crate::domain::coverage::CoverageStatus::*;
        let now = chrono::Utc::now();
        let days = |n| now - chrono::Duration::days(n);
        assert_eq!(
            attention(NotCovered, None, now, 90),
            Some(Attention::NotCovered)
        );
        assert_eq!(
            attention(NotCovered, Some(days(1)), now, 90),
            Some(Attention::NotCovered)
        );
        assert_eq!(
            attention(InProgress, None, now, 90),
            Some(Attention::NeverValidated)
        );
        assert_eq!(attention(Validated, Some(days(89)), now, 90), None);
        assert_eq!(
            attention(Partial, Some(days(91)), now, 90),
            Some(Attention::Stale(days(91)))
        );
    }

    fn ids(text: &str) -> Vec<String> {
        technique_ids(text).into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn technique_ids_need_word_boundaries() {
        assert_eq!(ids("uses T1059 and T1059.001."), ["T1059", "T1059.001"]);
        assert_eq!(ids("(T1486)"), ["T1486"]);
        assert!(ids("XT1059 T10590 T105 t1059 T1059_x").is_empty());
        assert_eq!(ids("T1059.0012"), Vec::<String>::new());
        // A dot that ends a sentence is not a sub-technique.
        assert_eq!(ids("see T1027."), ["T1027"]);
        assert_eq!(ids("T1027.5"), Vec::<String>::new());
    }

    #[test]
    fn attack_links_name_sub_techniques_with_a_slash() {
        assert_eq!(
            ids(r#"<a href="https://attack.mitre.org/techniques/T1543/003/">x</a>"#),
            ["T1543.003"]
        );
        assert_eq!(
            ids("https://attack.mitre.org/techniques/T1055/012"),
            ["T1055.012"]
        );
        assert_eq!(ids("https://attack.mitre.org/techniques/T1055/"), ["T1055"]);
        // Outside an ATT&CK link a slash is only a slash.
        assert_eq!(ids("T1543/003"), ["T1543"]);
    }

    fn matcher() -> Matcher {
        let mut terms = vec![
            technique_term("T1059", "Command and Scripting Interpreter", None),
            technique_term(
                "T1059.001",
                "PowerShell",
                Some("Command and Scripting Interpreter"),
            ),
            technique_term("T1055", "Process Injection", None),
            technique_term("T1090", "Proxy", None),
            technique_term("T1566", "Phishing", None),
        ];
        terms.extend(named_terms(
            MentionKind::Actor,
            "G0016",
            "APT29",
            &["APT29".into(), "Cozy Bear".into(), "NOBELIUM".into()],
        ));
        terms.extend(named_terms(
            MentionKind::Software,
            "S0154",
            "Cobalt Strike",
            &["Cobalt Strike".into()],
        ));
        terms.extend(named_terms(MentionKind::Software, "S0110", "at", &[]));
        terms.extend(named_terms(MentionKind::Actor, "G0091", "Silence", &[]));
        terms.extend(named_terms(MentionKind::Software, "S0002", "Mimikatz", &[]));
        Matcher::new(
            [
                ("T1059".into(), "Command and Scripting Interpreter".into()),
                ("T1059.001".into(), "PowerShell".into()),
                ("T1055".into(), "Process Injection".into()),
                ("T1055.012".into(), "Process Hollowing".into()),
            ],
            terms,
        )
    }

    fn mentions(m: &Matcher, text: &str) -> Vec<(MentionKind, String)> {
        m.scan(&[Part {
            field: MatchField::Summary,
            text,
            raw: text,
        }])
        .into_iter()
        .map(|m| (m.kind, m.mitre_id))
        .collect()
    }

    #[test]
    fn names_match_whole_words_only() {
        let m = matcher();
        assert_eq!(
            mentions(&m, "cozy bear used Cobalt Strike and mimikatz."),
            [
                (MentionKind::Actor, "G0016".into()),
                (MentionKind::Software, "S0154".into()),
            ],
            "multi-word names fold case; one-word names keep ATT&CK's spelling"
        );
        assert_eq!(
            mentions(&m, "Mimikatz, then APT29's tooling"),
            [
                (MentionKind::Actor, "G0016".into()),
                (MentionKind::Software, "S0002".into()),
            ]
        );
        assert!(mentions(&m, "MimikatzX XAPT29 APT290 Cozy Bears").is_empty());
        assert!(
            mentions(&m, "Silence at the Proxy").is_empty(),
            "common words and short names never match"
        );
    }

    #[test]
    fn a_sub_technique_matches_by_its_full_name_and_longest_wins() {
        let m = matcher();
        assert_eq!(
            mentions(&m, "Command and Scripting Interpreter: PowerShell was used"),
            [(MentionKind::Technique, "T1059.001".into())]
        );
        assert!(mentions(&m, "PowerShell alone").is_empty());
        assert_eq!(
            mentions(&m, "classic process injection"),
            [(MentionKind::Technique, "T1055".into())]
        );
    }

    #[test]
    fn unknown_ids_are_ignored_and_each_mention_says_where_it_was() {
        let m = matcher();
        let found = m.scan(&[
            Part {
                field: MatchField::Title,
                text: "T1059 and T9999",
                raw: "T1059 and T9999",
            },
            Part {
                field: MatchField::Content,
                text: "Process Hollowing",
                raw: r#"<a href="https://attack.mitre.org/techniques/T1055/012/">Process Hollowing</a> T1059"#,
            },
        ]);
        assert_eq!(found.len(), 2, "sorted by kind and id");
        assert_eq!(found[0].mitre_id, "T1055.012");
        assert_eq!(found[0].name, "Process Hollowing");
        assert_eq!(found[0].matched, ["T1055.012"]);
        assert_eq!(found[1].mitre_id, "T1059");
        assert_eq!(found[1].fields, [MatchField::Title, MatchField::Content]);
    }

    #[test]
    fn name_rules() {
        assert_eq!(name_rule("at"), None);
        assert_eq!(name_rule("Silence"), None);
        assert_eq!(name_rule("Mimikatz"), Some(true));
        assert_eq!(name_rule("Cozy Bear"), Some(false));
        assert_eq!(name_rule("APT1"), Some(true));
    }

    #[test]
    fn names_next_to_non_ascii_letters_are_not_whole_words() {
        let m = matcher();
        assert!(mentions(&m, "éMimikatz").is_empty());
        assert_eq!(mentions(&m, "«Mimikatz»").len(), 1);
    }
}
