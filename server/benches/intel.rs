//! The intel scan's matching target: 10,000 feed items matched against the whole Enterprise
//! knowledge base (every technique, threat actor and piece of software with their aliases)
//! in under 2 s, with the Aho-Corasick matcher of `domain::intel`.
//!
//! The items are real text: the posts of `../shared/data/intel-feeds/mssplab` (full HTML, 15
//! technique ids), the titles of `../shared/data/intel-feeds/endlessfractal`, and the Sigma
//! rules of `../shared/data/sigma` (their descriptions and references name techniques, actors
//! and tools), cycled to 10,000. Run with `cargo bench -p server --bench intel`; prints a
//! Markdown row for BENCHMARKS.md; skips with a reason when the shared data is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::server::importers::attack::stix::parse_bundle;
use app::server::importers::feeds::{FeedEntry, match_entry, parse_feed};
use app::server::intel::matcher;
use std::path::{Path, PathBuf};
use std::time::Instant;

const ITEMS: usize = 10_000;
const RUNS: usize = 5;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

fn sigma_texts(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sigma_texts(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push(text);
        }
    }
}

fn main() {
    let Ok(bundle) = std::fs::read(shared().join("attack/enterprise-attack.json")) else {
        println!("skipped: ../shared/data/attack/enterprise-attack.json is not there");
        return;
    };
    let (Ok(atom), Ok(rss)) = (
        std::fs::read(shared().join("intel-feeds/mssplab/feed.xml")),
        std::fs::read(shared().join("intel-feeds/endlessfractal/feed.xml")),
    ) else {
        println!("skipped: ../shared/data/intel-feeds is not there");
        return;
    };
    let data = parse_bundle(&bundle).unwrap();
    let techniques: Vec<_> = data
        .techniques
        .iter()
        .filter(|t| !t.deprecated && !t.revoked)
        .map(|t| {
            (
                t.mitre_id.clone(),
                t.name.clone(),
                t.parent_mitre_id.clone(),
            )
        })
        .collect();
    let named = |rows: Vec<(String, String, Vec<String>)>| {
        rows.into_iter()
            .map(|(id, name, aliases)| (id, name, serde_json::json!(aliases)))
            .collect::<Vec<_>>()
    };
    let actors = named(
        data.actors
            .iter()
            .filter(|a| !a.deprecated && !a.revoked)
            .map(|a| (a.mitre_id.clone(), a.name.clone(), a.aliases.clone()))
            .collect(),
    );
    let software = named(
        data.software
            .iter()
            .filter(|s| !s.deprecated && !s.revoked)
            .map(|s| (s.mitre_id.clone(), s.name.clone(), s.aliases.clone()))
            .collect(),
    );
    let (t, a, s) = (techniques.len(), actors.len(), software.len());

    let mut sources: Vec<FeedEntry> = parse_feed(&atom).unwrap().entries;
    sources.extend(parse_feed(&rss).unwrap().entries);
    let mut rules = Vec::new();
    sigma_texts(&shared().join("sigma/rules"), &mut rules);
    sources.extend(rules.into_iter().enumerate().map(|(i, text)| {
        FeedEntry {
            guid: Some(format!("sigma-{i}")),
            link: None,
            title: text
                .lines()
                .find(|l| l.starts_with("title:"))
                .unwrap_or("rule")
                .to_owned(),
            summary_raw: String::new(),
            content_raw: text,
            published: None,
        }
    }));
    let items: Vec<FeedEntry> = sources.iter().cycle().take(ITEMS).cloned().collect();
    let bytes: usize = items
        .iter()
        .map(|i| i.title.len() + i.summary_raw.len() + i.content_raw.len())
        .sum();

    let mut times = Vec::new();
    let mut mentions = 0;
    let mut build_ms = 0.0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let m = matcher::build(techniques.clone(), actors.clone(), software.clone());
        build_ms = started.elapsed().as_secs_f64() * 1e3;
        mentions = 0;
        for item in &items {
            mentions += match_entry(&m, item).1.len();
        }
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| Match {ITEMS} items ({:.1} MB of real feed posts, titles and Sigma rules; {} distinct sources) against {t} techniques, {a} actors, {s} software with aliases | median {:.2} s (best {:.2} s, matcher built in {build_ms:.0} ms; {mentions} mentions) | < 2 s |",
        bytes as f64 / 1e6,
        sources.len(),
        times[RUNS / 2],
        times[0],
    );
}
