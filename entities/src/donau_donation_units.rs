use sea_orm::entity::prelude::*;

/// A donation unit key: signs receipts worth `value` for donations of `year`.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donau_donation_units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub unit_serial: i64,
    /// Crockford base32 of the key's hash (`pub_key_hash`).
    #[sea_orm(unique)]
    pub pub_key_hash: String,
    pub year: i32,
    /// Canonical amount text.
    pub value: String,
    /// `RSA` (Clause-Schnorr may follow).
    pub cipher: String,
    /// Crockford base32 of the public key's GNUnet encoding.
    pub public_key: String,
    /// PKCS#8 DER of the private key.
    pub private_key: Vec<u8>,
    /// The private key is lost: no new receipts, old ones stay valid.
    pub lost: bool,
}

/// Shows no private key.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DonationUnit")
            .field("pub_key_hash", &self.pub_key_hash)
            .field("year", &self.year)
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
