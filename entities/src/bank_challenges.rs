use sea_orm::entity::prelude::*;

/// A TAN challenge: an operation of an account that waits for its owner's second
/// factor. The code goes out over `tan_channel` to `tan_info`; solved (`confirmation_date`),
/// it lets the same operation with the same body through once (`used_date`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub challenge_serial: i64,
    /// The public id (a UUID): the send and confirm endpoints need no credentials.
    #[sea_orm(unique)]
    pub challenge_id: String,
    pub account_id: i64,
    /// The protected operation (`bank_transaction`, `withdrawal`, …).
    pub op: String,
    /// SHA-512 of the operation's canonical body, so the code confirms that body only.
    pub body_hash: String,
    /// SHA-256 of the current code: codes are secrets, stored hashed.
    pub code_hash: String,
    /// `sms` or `email`.
    pub tan_channel: String,
    /// The phone number or e-mail address the code goes to.
    pub tan_info: String,
    /// Seconds since the epoch, as every date of the bank.
    pub creation_date: i64,
    /// When the current code stops being accepted.
    pub expiration_date: i64,
    /// Attempts left for the current code.
    pub retry_counter: i32,
    /// The earliest time the code may be sent again (0: never sent).
    pub retransmission_date: i64,
    pub confirmation_date: Option<i64>,
    /// The protected operation went through with it.
    pub used_date: Option<i64>,
    /// The account's TAN settings changed since: the challenge is void.
    pub invalidated: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
