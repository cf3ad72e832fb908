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
