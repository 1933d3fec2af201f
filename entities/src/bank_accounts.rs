use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub account_id: i64,
    #[sea_orm(unique)]
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Legal name of the account owner.
    pub name: String,
    /// The payto URI without query, e.g. `payto://x-taler-bank/localhost/alice`.
    #[sea_orm(unique)]
    pub payto_key: String,
    pub is_public: bool,
    pub is_taler_exchange: bool,
    /// The balance's magnitude: integer part and 10^-8 fraction.
    pub balance_value: i64,
    pub balance_frac: i32,
    /// Whether the balance is a debt (below zero).
    pub has_debt: bool,
    /// How far below zero the balance may go.
    pub debit_threshold_value: i64,
    pub debit_threshold_frac: i32,
    /// Deleted: unknown to the API, kept for the other accounts' histories.
    pub deleted: bool,
    /// `ChallengeContactData` as JSON.
    pub contact_data: Option<String>,
    /// The second factor's channels, comma-separated (`sms`, `email`); none without.
    pub tan_channels: Option<String>,
    /// Wrong codes for login challenges in a row (reset by a solved one or a new
    /// password); too many lock the account's logins.
    pub tan_login_failures: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
