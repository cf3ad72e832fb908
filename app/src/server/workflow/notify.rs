//! Sends the notices of `domain::notices` in the caller's transaction.
use crate::domain::notices::{Audience, Notice, TestFacts, recipients};
use crate::error::AppResult;
use crate::server::entities::security_test;
use crate::server::platform::context::Actor;
use crate::server::platform::notifications::{self, NewNotification};
use sea_orm::ConnectionTrait;

pub fn facts(test: &security_test::Model) -> TestFacts<'_> {
    TestFacts {
        title: &test.title,
        created_by: test.created_by,
        assigned_red: test.assigned_red_id,
        assigned_blue: test.assigned_blue_id,
    }
}

/// Resolves the notice's audience and notifies everyone in it but the actor.
pub async fn send(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    notice: Notice,
    test: &security_test::Model,
) -> AppResult<()> {
    let users = match notice.audience {
        Audience::Side {
            assignee: Some(id), ..
        } => vec![id],
        Audience::Side {
            assignee: None,
            roles,
        }
        | Audience::Roles(roles) => notifications::users_with_roles(conn, roles).await?,
        Audience::Users(users) => users,
    };
    notifications::notify(
        conn,
        &recipients(users, actor.id),
        NewNotification {
            kind: notice.kind.as_str(),
            title: notice.title,
            body: format!("{} ({})", test.title, test.technique_id),
            link: Some(format!("/tests/{}", test.id)),
        },
    )
    .await
}
