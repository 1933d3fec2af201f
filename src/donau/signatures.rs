//! What the Donau signs with its online signing keys, as GNUnet signs: Ed25519 over a
//! purpose block (`u32 size ‖ u32 purpose ‖ payload`, big-endian).
//!
//! The donation statement's block is confirmed by the Donau verifier app's test
//! vector (below); its layout is the app's `DONAU_DonationStatementConfirmationPS`.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};

use crate::taler::Amount;

/// `DONAU_SIGNATURE_DONAU_DONATION_STATEMENT`.
pub const DONATION_STATEMENT: u32 = 1500;

/// GNUnet's purpose block: the bytes an EdDSA signature covers.
pub fn purpose_block(purpose: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&((8 + payload.len()) as u32).to_be_bytes());
    out.extend_from_slice(&purpose.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `TALER_AmountNBO`: `u64 value ‖ u32 fraction` big-endian, the currency in 12 bytes
/// padded with zeros.
pub fn amount_nbo(amount: &Amount) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..8].copy_from_slice(&amount.value().to_be_bytes());
    out[8..12].copy_from_slice(&amount.fraction().to_be_bytes());
    let currency = amount.currency().as_bytes();
    let n = currency.len().min(11);
    out[12..12 + n].copy_from_slice(&currency[..n]);
    out
}

/// The 100 bytes a donation statement's signature covers: size, purpose 1500, the
/// total, the donor identifier hash as submitted, the year.
pub fn statement_block(total: &Amount, h_donor_tax_id: &[u8; 64], year: u32) -> Vec<u8> {
    let mut payload = Vec::with_capacity(92);
    payload.extend_from_slice(&amount_nbo(total));
    payload.extend_from_slice(h_donor_tax_id);
    payload.extend_from_slice(&year.to_be_bytes());
    purpose_block(DONATION_STATEMENT, &payload)
}

pub fn sign_statement(
    key: &SigningKey,
    total: &Amount,
    h_donor_tax_id: &[u8; 64],
    year: u32,
) -> [u8; 64] {
    key.sign(&statement_block(total, h_donor_tax_id, year))
        .to_bytes()
}

/// The check the Donau verifier app makes: Ed25519 over the statement block.
pub fn statement_verifies(
    key: &[u8; 32],
    total: &Amount,
    h_donor_tax_id: &[u8; 64],
    year: u32,
    signature: &[u8; 64],
) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    key.verify(
        &statement_block(total, h_donor_tax_id, year),
        &ed25519_dalek::Signature::from_bytes(signature),
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taler::keys;
    use sha2::{Digest, Sha512};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Test vector B of the Donau verifier app's README (2024): tax id
    /// `7560001010000`, salt `1234`, year 2024, total `EUR:15`.
    #[test]
    fn verifier_app_vector_b() {
        let h: [u8; 64] = Sha512::digest(b"75600010100001234").into();
        assert_eq!(
            keys::encode(&h),
            "HEKH17WC91TW5YHREZ8SK5Y8Z15J5J4KFCRJMW7BVVRSS4DNPCZWETM1695AB3B1DFNRVEFHCW6Z8MNP83MZQMJNFJRMG3DXA5YKCQR"
        );
        let total: Amount = "EUR:15".parse().unwrap();
        let block = statement_block(&total, &h, 2024);
        assert_eq!(
            hex(&block),
            "00000064000005dc000000000000000f00000000455552000000000000000000\
             8ba7109f8c4875c2fa3877d19997c8f84b22c8937b312a70ebdef19c91b5b33f\
             c76a81324aa58d616beb8db9f1670df452b640e9fbd2557cb1480dbd517d365f000007e8"
        );
        let sig: [u8; 64] = keys::decode("SAAM5BA1F9H4VT6T78CFC3X63HAMY2TXB597XBVZ0EMXEZ90QPJ3000BXDBJ3ECHGB8AEX9FFQ5BAXVSF6X6NXM98PY353F2R99PP1R", 64)
            .unwrap()
            .try_into()
            .unwrap();
        let public: [u8; 32] =
            keys::decode("E24CDJHGSPZG20ZSSTMTBREGCCP495WKETQYCYA9C93EPMZN4FEG", 32)
                .unwrap()
                .try_into()
                .unwrap();
        assert!(statement_verifies(&public, &total, &h, 2024, &sig));
        assert!(!statement_verifies(&public, &total, &h, 2025, &sig));
    }

    #[test]
    fn our_statements_verify_as_the_app_checks_them() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let total: Amount = "KUDOS:7.5".parse().unwrap();
        let h = [3u8; 64];
        let sig = sign_statement(&key, &total, &h, 2026);
        assert!(statement_verifies(
            &key.verifying_key().to_bytes(),
            &total,
            &h,
            2026,
            &sig
        ));
        let other: Amount = "KUDOS:7.6".parse().unwrap();
        assert!(!statement_verifies(
            &key.verifying_key().to_bytes(),
            &other,
            &h,
            2026,
            &sig
        ));
    }
}
