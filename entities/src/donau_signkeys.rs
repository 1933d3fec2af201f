use sea_orm::entity::prelude::*;

/// An online signing key of the Donau (EdDSA), one per calendar year.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_signkeys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub signkey_serial: i64,
    #[sea_orm(unique)]
    pub year: i32,
    /// Crockford base32 of the Ed25519 public key.
    pub public_key: String,
    /// The 32-byte Ed25519 seed.
    pub private_key: Vec<u8>,
    /// Seconds since the epoch.
    pub stamp_start: i64,
    pub stamp_expire: i64,
}

/// Shows no private key.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signkey")
            .field("year", &self.year)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
