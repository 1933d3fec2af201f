//! GNUnet's key derivation and the HMAC under it, shared by OTP codes and contract
//! terms' forgettable fields.

use sha2::{Digest, Sha256, Sha512};

/// GNUnet's `GNUNET_CRYPTO_kdf` without context: HKDF-extract with HMAC-SHA512 (salt
/// `xts`, input `skm`), HKDF-expand with HMAC-SHA256.
pub fn gnunet_kdf(xts: &[u8], skm: &[u8], len: usize) -> Vec<u8> {
    gnunet_kdf_with_context(xts, skm, b"", len)
}

/// `GNUNET_CRYPTO_kdf` with context `ctx` (the concatenated context arguments): each
/// expand block is HMAC-SHA256(PRK, previous block | ctx | counter), as RFC 5869 says.
pub fn gnunet_kdf_with_context(xts: &[u8], skm: &[u8], ctx: &[u8], len: usize) -> Vec<u8> {
    let prk = hmac::<Sha512>(xts, skm);
    let mut out = Vec::with_capacity(len);
    let mut block: Vec<u8> = Vec::new();
    let mut counter = 1u8;
    while out.len() < len {
        let mut input = block.clone();
        input.extend_from_slice(ctx);
        input.push(counter);
        block = hmac::<Sha256>(&prk, &input);
        out.extend_from_slice(&block);
        counter += 1;
    }
    out.truncate(len);
    out
}

/// HMAC (RFC 2104) over any block hash of the `digest` 0.10 family.
pub fn hmac<D: Digest + sha2::digest::core_api::BlockSizeUser>(
    key: &[u8],
    message: &[u8],
) -> Vec<u8> {
    let block = D::block_size();
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = D::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    D::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}
