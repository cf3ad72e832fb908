//! The seeded team: technicians, leads and viewers, each with a fixed client address.
use super::SeedOptions;
use super::USERNAME_PREFIX;
use super::rng::Rng;
use super::vocabulary::{FIRST_NAMES, LAST_NAMES};
use anyhow::{Context, bail};
use app::domain::rbac::Role;
use app::server::admin::passwords;
use app::server::entities::user;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

pub(super) struct Person {
    pub(super) id: Uuid,
    pub(super) username: String,
    pub(super) ip: String,
}

/// The seeded people, and the indexes of those of each working role.
#[derive(Default)]
pub(super) struct Staff {
    pub(super) people: Vec<Person>,
    pub(super) red_techs: Vec<usize>,
    pub(super) blue_techs: Vec<usize>,
    pub(super) red_leads: Vec<usize>,
    pub(super) blue_leads: Vec<usize>,
}
impl Staff {
    fn add(&mut self, role: Role, person: Person) {
        let index = self.people.len();
        self.people.push(person);
        match role {
            Role::RedTech => self.red_techs.push(index),
            Role::BlueTech => self.blue_techs.push(index),
            Role::RedLead => self.red_leads.push(index),
            Role::BlueLead => self.blue_leads.push(index),
            Role::Admin | Role::Viewer => {}
        }
    }
}

/// The seeded team: (role, username stem, how many).
const TEAM: [(Role, &str, usize); 5] = [
    (Role::RedTech, "red", 14),
    (Role::BlueTech, "blue", 14),
    (Role::RedLead, "red-lead", 4),
    (Role::BlueLead, "blue-lead", 4),
    (Role::Viewer, "viewer", 4),
];

/// The seeded team: existing `seed-…` users are reused, missing ones created with the shared
/// password (hashed once: Argon2 per user would cost seconds).
pub(super) async fn ensure_staff(
    db: &DatabaseConnection,
    options: &SeedOptions,
    rng: &mut Rng,
    created_at: DateTime<Utc>,
) -> anyhow::Result<(Staff, Vec<user::Model>, usize)> {
    let existing: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Username.starts_with(USERNAME_PREFIX))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.username.clone(), u))
        .collect();
    let password = options.password.clone();
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .context("hashing the seed password")?
        .map_err(|e| anyhow::anyhow!("hashing the seed password: {}", e.detail()))?;
    let mut staff = Staff::default();
    let mut created = Vec::new();
    let mut reused = 0;
    let mut k = 0;
    for (role, stem, count) in TEAM {
        for i in 1..=count {
            k += 1;
            let username = format!("{USERNAME_PREFIX}{stem}-{i}");
            let id = rng.uuid();
            let person = |id| Person {
                id,
                username: username.clone(),
                ip: format!("10.10.{}.{}", k / 250, 1 + k % 250),
            };
            if let Some(found) = existing.get(&username) {
                reused += 1;
                let role = found.role.parse().unwrap_or(role);
                staff.add(role, person(found.id));
                continue;
            }
            let display_name = format!(
                "{} {}",
                FIRST_NAMES[(k * 7) % FIRST_NAMES.len()],
                LAST_NAMES[(k * 13) % LAST_NAMES.len()]
            );
            created.push(user::Model {
                id,
                username: username.clone(),
                display_name,
                email: Some(format!("{username}@example.com")),
                role: role.as_str().to_owned(),
                is_active: true,
                password_hash: hash.clone(),
                password_changed_at: created_at,
                last_login_at: None,
                created_at,
                updated_at: created_at,
                oidc_issuer: None,
                oidc_subject: None,
            });
            staff.add(role, person(id));
        }
    }
    for (list, role) in [
        (&staff.red_techs, Role::RedTech),
        (&staff.blue_techs, Role::BlueTech),
        (&staff.red_leads, Role::RedLead),
        (&staff.blue_leads, Role::BlueLead),
    ] {
        if list.is_empty() {
            bail!(
                "no seeded {} left: a `{USERNAME_PREFIX}…` user changed role; rename it or pick another database",
                role.as_str()
            );
        }
    }
    Ok((staff, created, reused))
}
