//! GNUnet's key derivation and the HMAC under it, shared by OTP codes and contract
//! terms' forgettable fields, from RustCrypto's `hmac` and `hkdf`.

use hkdf::Hkdf;
use hmac::{KeyInit, Mac, SimpleHmac};
use sha2::{Sha256, Sha512};

/// GNUnet's `GNUNET_CRYPTO_kdf` without context: HKDF-extract with HMAC-SHA512 (salt
/// `xts`, input `skm`), HKDF-expand with HMAC-SHA256.
pub fn gnunet_kdf(xts: &[u8], skm: &[u8], len: usize) -> Vec<u8> {
    gnunet_kdf_with_context(xts, skm, b"", len)
}

/// `GNUNET_CRYPTO_kdf` with context `ctx` (the concatenated context arguments): the
/// pseudo-random key of an HKDF-extract with HMAC-SHA512, expanded by RFC 5869's
/// expand with HMAC-SHA256 (each block HMAC-SHA256(PRK, previous block | ctx |
/// counter)). The two hashes differ, so it is not one `Hkdf` but an extract and an
/// expand from the extracted key.
pub fn gnunet_kdf_with_context(xts: &[u8], skm: &[u8], ctx: &[u8], len: usize) -> Vec<u8> {
    let prk = hmac::<Sha512>(xts, skm);
    let expand = Hkdf::<Sha256>::from_prk(&prk).expect("a 64-byte key is long enough");
    let mut out = vec![0u8; len];
    // RFC 5869 allows 255 blocks (8160 bytes); Taler asks for at most 64.
    expand
        .expand(ctx, &mut out)
        .expect("at most 255 blocks of HMAC-SHA256");
    out
}

/// HMAC (RFC 2104) over a hash of RustCrypto's `digest` family (SHA-1, SHA-256,
/// SHA-512).
pub fn hmac<D>(key: &[u8], message: &[u8]) -> Vec<u8>
where
    D: sha2::Digest + sha2::digest::block_api::BlockSizeUser,
{
    let mut mac =
        <SimpleHmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use sha1::Sha1;
    use sha2::{Sha256, Sha512};

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231, test cases 2 (a short key) and 6 (a key longer than the block).
    #[test]
    fn hmac_sha2_matches_rfc_4231() {
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hex(&hmac::<Sha256>(b"Jefe", data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac::<Sha512>(b"Jefe", data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a\
             6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        let key = [0xaa; 131];
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            hex(&hmac::<Sha256>(&key, data)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            hex(&hmac::<Sha512>(&key, data)),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598\
             bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
        );
    }

    /// RFC 2202, test case 1 (HMAC-SHA1, which TOTP uses).
    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        assert_eq!(
            hex(&hmac::<Sha1>(&[0x0b; 20], b"Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
    }

    /// The expand is RFC 5869's: blocks chain, the context follows the previous block,
    /// and a longer output begins with the shorter one.
    #[test]
    fn kdf_expands_as_rfc_5869() {
        let prk = hmac::<Sha512>(b"salt", b"key material");
        let t1 = hmac::<Sha256>(&prk, b"ctx\x01");
        let mut second = t1.clone();
        second.extend_from_slice(b"ctx\x02");
        let t2 = hmac::<Sha256>(&prk, &second);
        let out = gnunet_kdf_with_context(b"salt", b"key material", b"ctx", 64);
        assert_eq!(out[..32], t1[..]);
        assert_eq!(out[32..], t2[..]);
        assert_eq!(
            gnunet_kdf_with_context(b"salt", b"key material", b"ctx", 40)[..],
            out[..40]
        );
        assert_eq!(gnunet_kdf(b"salt", b"key material", 64), {
            let t1 = hmac::<Sha256>(&prk, b"\x01");
            let mut second = t1.clone();
            second.push(2);
            [t1, hmac::<Sha256>(&prk, &second)].concat()
        });
    }
}
