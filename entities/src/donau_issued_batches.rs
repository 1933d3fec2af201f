use sea_orm::entity::prelude::*;

/// A batch of receipts the Donau signed for a charity, kept so that the same batch
/// asked again gets the same answer and is charged once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_issued_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub batch_serial: i64,
    pub charity_id: i64,
    /// Crockford base32 of the SHA-512 the charity signed.
    pub batch_hash: String,
    pub year: i32,
    /// Canonical amount text.
    pub issued_amount: String,
    /// JSON array of the blind signatures (Crockford base32), in request order.
    pub signatures: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
