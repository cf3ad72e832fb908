//! What follows a test's change of state beyond the test itself, in the same transaction:
//! the webhooks (`test.state_changed`, and `test.validated` / `test.rejected`), and its
//! campaign's completion when that was its last test under way.
use crate::domain::webhooks::WebhookEvent;
use crate::domain::workflow::TestState;
use crate::error::AppResult;
use crate::server::campaigns::members::after_test_finished;
use crate::server::entities::security_test;
use crate::server::platform::context::Actor;
use crate::server::webhooks::outbox::{emit, test_object};
use sea_orm::DatabaseTransaction;

pub async fn state_changed(
    txn: &DatabaseTransaction,
    actor: &Actor,
    test: &security_test::Model,
    from: TestState,
) -> AppResult<()> {
    if test.state == from {
        return Ok(());
    }
    let object = test_object(test, Some(from.as_str()));
    emit(txn, WebhookEvent::TestStateChanged, &object).await?;
    match test.state {
        TestState::Validated => {
            emit(txn, WebhookEvent::TestValidated, &object).await?;
        }
        TestState::Rejected => {
            emit(txn, WebhookEvent::TestRejected, &object).await?;
        }
        _ => {}
    }
    after_test_finished(txn, actor, test).await
}
