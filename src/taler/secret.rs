//! Secrets: bearer tokens (RFC 8959 `secret-token:`), their hashes, passwords.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::keys::{self, EddsaPublicKey};

/// The RFC 8959 prefix every Taler bearer token carries.
pub const TOKEN_PREFIX: &str = "secret-token:";

/// Fresh random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    buf
}

/// A random (version 4) UUID, lower case: public ids whose knowledge is the
/// authorization (withdrawal operations, TAN challenges), so unguessable.
pub fn random_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A new bearer token: `secret-token:` and 32 random bytes in Crockford base32.
pub fn generate_token() -> String {
    format!("{TOKEN_PREFIX}{}", keys::encode(&random_bytes::<32>()))
}

/// A fresh Ed25519 key pair: the public key and the 32-byte private seed, both in
/// Taler's Crockford base32 (52 characters each).
pub fn generate_keypair() -> (EddsaPublicKey, String) {
    let seed = random_bytes::<32>();
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    (
        EddsaPublicKey(signing.verifying_key().to_bytes()),
        keys::encode(&seed),
    )
}

/// The digest under which a token is stored; the token itself never is.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Is `presented` the configured token? Digests are compared in constant time, so
/// the answer's timing says nothing about either token.
pub fn is_configured_token(presented: &str, configured: &str) -> bool {
    constant_time_eq(&token_hash(presented), &token_hash(configured))
}

/// Argon2id hash of a password in PHC string form.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Checks a password against its PHC hash (constant time inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_unique_and_hashed() {
        let (a, b) = (generate_token(), generate_token());
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 52);
        assert_ne!(a, b);
        assert!(constant_time_eq(&token_hash(&a), &token_hash(&a)));
        assert!(!constant_time_eq(&token_hash(&a), &token_hash(&b)));
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("correct horse");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct hors", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
