//! Single sign-on: the provider's issuer and subject on the account it signs in (unique
//! together: a subject is unique only within its issuer), and the sign-ins
//! under way (state, nonce, PKCE verifier, where to go after), each used once and only for a
//! few minutes, kept in the database so the callback may reach any server process.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    OidcIssuer,
    OidcSubject,
}

#[derive(DeriveIden)]
enum OidcLogins {
    Table,
    StateHash,
    Nonce,
    PkceVerifier,
    NextPath,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::OidcIssuer).string_len(512).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::OidcSubject).string_len(255).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_oidc_subject")
                    .table(Users::Table)
                    .col(Users::OidcIssuer)
                    .col(Users::OidcSubject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcLogins::Table)
                    .col(
                        ColumnDef::new(OidcLogins::StateHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OidcLogins::Nonce).string_len(128).not_null())
                    .col(
                        ColumnDef::new(OidcLogins::PkceVerifier)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OidcLogins::NextPath).string_len(2048).null())
                    .col(
                        ColumnDef::new(OidcLogins::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("oidc_logins_created")
                    .table(OidcLogins::Table)
                    .col(OidcLogins::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OidcLogins::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("users_oidc_subject")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Users::OidcSubject, Users::OidcIssuer] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
