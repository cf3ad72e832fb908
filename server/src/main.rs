#![recursion_limit = "256"]
use app::domain::sources::CatalogImport;
use clap::{Parser, Subcommand};
use server::config::Config;
use std::io::Read;
use std::process::ExitCode;

/// Aegis: prove, technique by technique, which ATT&CK attacks you detect.
#[derive(Parser)]
#[command(name = "aegis", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a user. The password comes from AEGIS_NEW_USER_PASSWORD or standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        /// admin, red_tech, blue_tech, red_lead, blue_lead or viewer
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Import an ATT&CK STIX bundle file (offline, for air-gapped installations).
    ImportAttack {
        /// Path to a STIX 2.0 or 2.1 bundle, e.g. enterprise-attack.json
        file: std::path::PathBuf,
    },
    /// Import Atomic Red Team atomics into the template catalog (offline).
    ImportAtomics {
        /// A checkout of atomic-red-team, its `atomics` folder, or a zip of either
        path: std::path::PathBuf,
    },
    /// Import MITRE CALDERA abilities and adversary profiles into the catalog (offline).
    ImportCaldera {
        /// A checkout of mitre/stockpile, its `data` folder, or a zip of either
        path: std::path::PathBuf,
    },
    /// Import LOLBAS into the template catalog (offline).
    ImportLolbas {
        /// A checkout of LOLBAS-Project/LOLBAS, its `yml` folder, or a zip of either
        path: std::path::PathBuf,
    },
    /// Import GTFOBins into the template catalog (offline).
    ImportGtfobins {
        /// A checkout of GTFOBins.github.io (its `_gtfobins` and `_data`), or a zip of it
        path: std::path::PathBuf,
    },
    /// Import SigmaHQ rules into the detection rules (offline).
    ImportSigma {
        /// A checkout of SigmaHQ/sigma (its `rules*` folders), a rules folder, or a zip of it
        path: std::path::PathBuf,
    },
    /// Import Elastic's detection rules (offline).
    ImportElasticRules {
        /// A checkout of elastic/detection-rules (its `rules` folder), or a zip of it
        path: std::path::PathBuf,
    },
    /// Import D3FEND's countermeasures from its ontology (offline).
    ImportD3fend {
        /// The D3FEND ontology in Turtle: d3fend-protege.ttl from d3fend/d3fend-ontology, or
        /// d3fend.ttl from d3fend.mitre.org
        file: std::path::PathBuf,
    },
    /// Exit 0 when the server at AEGIS_BIND answers /health (for container health checks).
    Healthcheck,
    /// Fill the database with a large demo data set: users, tests in every state, evidence
    /// metadata and a year of audit history. Import ATT&CK first. The seeded users
    /// (seed-red-1, seed-blue-lead-1, ...) share the password in AEGIS_SEED_PASSWORD, or a
    /// random one printed once. Refused with AEGIS_ENV=production.
    SeedDemo {
        /// How many tests to create
        #[arg(long, default_value_t = 100_000)]
        tests: usize,
        /// Audit entries in total: the tests' own history, then sign-ins and edits
        #[arg(long, default_value_t = 1_000_000)]
        audit: usize,
        /// Spread the tests over this many days up to now
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// The same seed gives the same data
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("aegis: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    server::init_tracing(config.log_json);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::CreateUser {
            username,
            role,
            display_name,
            email,
        } => create_user(&config, username, role, display_name, email).await,
        Command::ImportAttack { file } => server::cli::import_attack_file(&config, &file).await,
        Command::ImportAtomics { path } => {
            server::cli::import_catalog_path(&config, CatalogImport::AtomicRedTeam, &path).await
        }
        Command::ImportCaldera { path } => {
            server::cli::import_catalog_path(&config, CatalogImport::Caldera, &path).await
        }
        Command::ImportLolbas { path } => {
            server::cli::import_catalog_path(&config, CatalogImport::Lolbas, &path).await
        }
        Command::ImportGtfobins { path } => {
            server::cli::import_catalog_path(&config, CatalogImport::Gtfobins, &path).await
        }
        Command::ImportSigma { path } => {
            server::cli::import_catalog_path(&config, CatalogImport::Sigma, &path).await
        }
        Command::ImportElasticRules { path } => {
            server::cli::import_catalog_path(&config, CatalogImport::ElasticRules, &path).await
        }
        Command::ImportD3fend { file } => server::cli::import_d3fend_file(&config, &file).await,
        Command::Healthcheck => healthcheck(&config).await,
        Command::SeedDemo {
            tests,
            audit,
            days,
            seed,
        } => {
            let options = server::seed::SeedOptions {
                tests,
                audit,
                days,
                seed,
                ..Default::default()
            };
            seed_demo(&config, options).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("aegis: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    server::open_database(config).await?;
    println!("Migrations applied.");
    Ok(())
}

async fn create_user(
    config: &Config,
    username: String,
    role: String,
    display_name: Option<String>,
    email: Option<String>,
) -> anyhow::Result<()> {
    let password = match std::env::var("AEGIS_NEW_USER_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            input.lines().next().unwrap_or("").to_owned()
        }
    };
    let request = app::dto::admin::users::CreateUserRequest {
        username,
        password,
        role,
        display_name,
        email,
        service_account: false,
    };
    let user = server::cli::create_user(config, request).await?;
    println!(
        "Created user {} ({}) with id {}",
        user.username, user.role, user.id
    );
    Ok(())
}

async fn seed_demo(config: &Config, mut options: server::seed::SeedOptions) -> anyhow::Result<()> {
    // Demo accounts, leads among them, have no place in production.
    anyhow::ensure!(
        !config.production,
        "seed-demo fills a database with demo accounts and data; it refuses to run with \
         AEGIS_ENV=production"
    );
    let chosen = std::env::var(server::seed::PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let generated = chosen.is_none();
    options.password = match chosen {
        Some(password) => password,
        // No public default: a fresh random password, shown once below.
        None => app::server::admin::passwords::generate()
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?,
    };
    let db = server::open_database(config).await?;
    let report = server::seed::seed(&db, &options).await?;
    println!("{report}");
    if generated {
        println!(
            "The seeded users share this password, shown only once (set {} to choose one):",
            server::seed::PASSWORD_ENV
        );
        println!("  {}", options.password);
    }
    Ok(())
}

async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get(format!("http://{addr}/health"))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "health check returned {}",
        response.status()
    );
    Ok(())
}
