//! The Donau's choices where the pages are silent, in one place so that the real
//! Donau's can replace them (README, "Donau": one sentence each).
//!
//! - The donation unit key hash (`pub_key_hash`, `h_donation_unit_pub`): as Taler
//!   hashes denominations, SHA-512 of `u32 0 ‖ u32 cipher (RSA = 1) ‖ GNUnet encoding
//!   of the public key`.
//! - The unique donation identifier a receipt signs: `h_udi = SHA-512(h_donor_tax_id ‖
//!   nonce)`, with a 32-byte nonce.
//! - The charity's signature on a batch: EdDSA by `charity_pub` over purpose 1501 with
//!   the payload `u32 number of pairs ‖ SHA-512 over, in request order, each pair's
//!   h_donation_unit_pub ‖ SHA-512(decoded blinded identifier)`.
//! - RSA full-domain hash, blinding and key encoding: GNUnet's, as GNU Taler's wallet
//!   implements them (`crate::taler::rsa`).

use ed25519_dalek::{Verifier, VerifyingKey};
use sha2::{Digest, Sha512};

use super::signatures::purpose_block;

/// The cipher tag of RSA keys in the key hash (Taler's `DenomKeyType` RSA).
const CIPHER_RSA: u32 = 1;

/// `DONAU_SIGNATURE_CHARITY_DONATION_CONFIRMATION` (our choice; see the module).
pub const CHARITY_BATCH: u32 = 1501;

/// Bytes of a donor's nonce.
pub const NONCE_BYTES: usize = 32;

/// `pub_key_hash` of an RSA donation unit key (its GNUnet encoding).
pub fn rsa_pub_key_hash(encoded: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(0u32.to_be_bytes());
    h.update(CIPHER_RSA.to_be_bytes());
    h.update(encoded);
    h.finalize().into()
}

/// The hash a receipt's signature covers.
pub fn h_udi(h_donor_tax_id: &[u8; 64], nonce: &[u8; NONCE_BYTES]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(h_donor_tax_id);
    h.update(nonce);
    h.finalize().into()
}

/// What identifies a batch: the SHA-512 the charity's signature covers.
pub fn batch_hash<'a>(pairs: impl Iterator<Item = (&'a [u8; 64], &'a [u8])>) -> [u8; 64] {
    let mut h = Sha512::new();
    for (unit, blinded) in pairs {
        h.update(unit);
        h.update(Sha512::digest(blinded));
    }
    h.finalize().into()
}

/// The bytes the charity signs for a batch of `count` pairs with `batch_hash`.
pub fn charity_batch_block(count: u32, batch_hash: &[u8; 64]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(68);
    payload.extend_from_slice(&count.to_be_bytes());
    payload.extend_from_slice(batch_hash);
    purpose_block(CHARITY_BATCH, &payload)
}

/// Whether `signature` is the charity's approval of the batch.
pub fn charity_signed(
    charity_pub: &[u8; 32],
    count: u32,
    batch_hash: &[u8; 64],
    signature: &[u8; 64],
) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(charity_pub) else {
        return false;
    };
    key.verify(
        &charity_batch_block(count, batch_hash),
        &ed25519_dalek::Signature::from_bytes(signature),
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn charity_signature_covers_the_pairs_in_order() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let (a, b) = ([1u8; 64], [2u8; 64]);
        let pairs = [(&a, &b"one"[..]), (&b, &b"two"[..])];
        let hash = batch_hash(pairs.iter().copied());
        let sig = key.sign(&charity_batch_block(2, &hash)).to_bytes();
        let public = key.verifying_key().to_bytes();
        assert!(charity_signed(&public, 2, &hash, &sig));
        let swapped = batch_hash(pairs.iter().rev().copied());
        assert!(!charity_signed(&public, 2, &swapped, &sig));
        assert!(!charity_signed(&public, 1, &hash, &sig));
        assert_eq!(charity_batch_block(2, &hash).len(), 76);
    }
}
