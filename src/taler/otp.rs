//! POS confirmation codes of OTP devices, computed as the Taler merchant backend does
//! (`TALER_build_pos_confirmation` of the exchange's util library): TOTP with HMAC-SHA1,
//! 30-second steps, 8 digits, and the codes of the two steps before and after the
//! current one, newline-separated, so a clock a minute off still matches. With a price,
//! the key is first derived from the amount (GNUnet's KDF: HKDF with HMAC-SHA512 to
//! extract, HMAC-SHA256 to expand).

use sha1::Sha1;

use crate::taler::{
    Amount,
    kdf::{gnunet_kdf, hmac},
};

/// How long one code is valid, in seconds.
const STEP_SECONDS: u64 = 30;
/// Steps before and after the current one whose codes are listed too.
const STEP_RANGE: i64 = 2;
/// Bytes of a currency name in `TALER_AmountNBO`.
const CURRENCY_LEN: usize = 12;

/// The confirmation algorithms of `otp_algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    None,
    TotpWithoutPrice,
    TotpWithPrice,
}

/// The device's code at `unix_seconds`, or `None` when the algorithm has none, the
/// price it needs is missing, or the stored key does not decode.
pub fn pos_confirmation(
    key_base32: &str,
    algorithm: Algorithm,
    price: Option<&Amount>,
    unix_seconds: u64,
) -> Option<String> {
    let key = rfc3548_base32_decode(key_base32)?;
    let key = match algorithm {
        Algorithm::None => return None,
        Algorithm::TotpWithoutPrice => key,
        Algorithm::TotpWithPrice => gnunet_kdf(&amount_nbo(price?), &key, 64),
    };
    let codes: Vec<String> = (-STEP_RANGE..=STEP_RANGE)
        .map(|offset| {
            let t = unix_seconds as i64 + offset * STEP_SECONDS as i64;
            totp(&key, t.max(0) as u64 / STEP_SECONDS).to_string()
        })
        .collect();
    Some(codes.join("\n"))
}

/// RFC 4226 HOTP (dynamic truncation, 8 digits) over a counter: a dozen lines over the
/// `hmac` crate, where a TOTP crate would not take the key GNUnet's KDF derives from
/// the price; RFC 6238's vectors are tested.
fn totp(key: &[u8], counter: u64) -> u32 {
    let mac = hmac::<Sha1>(key, &counter.to_be_bytes());
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    let code = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    code % 100_000_000
}

/// `TALER_AmountNBO`: value (8 bytes), fraction (4 bytes), both big-endian, then the
/// currency name NUL-padded to 12 bytes.
fn amount_nbo(amount: &Amount) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&amount.value().to_be_bytes());
    out.extend_from_slice(&amount.fraction().to_be_bytes());
    let mut currency = [0u8; CURRENCY_LEN];
    let name = amount.currency().as_bytes();
    currency[..name.len().min(CURRENCY_LEN)].copy_from_slice(&name[..name.len().min(CURRENCY_LEN)]);
    out.extend_from_slice(&currency);
    out
}

/// RFC 3548 base32 (A-Z, 2-7; padding ends the input), case-insensitive.
///
/// Kept by hand: OTP keys come from authenticator apps in whatever case and padding
/// they print, and the strict decoders of the crates (canonical length and trailing
/// bits) would refuse keys the Taler merchant accepts. RFC 4648's vectors are tested.
fn rfc3548_base32_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut bits, mut count) = (0u32, 0u32);
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        bits = (bits << 5) | v;
        count += 5;
        if count >= 8 {
            out.push((bits >> (count - 8)) as u8);
            count -= 8;
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, 8 digits, key "12345678901234567890".
    #[test]
    fn totp_matches_rfc_6238_vectors() {
        let key = b"12345678901234567890";
        for (time, code) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            assert_eq!(totp(key, time / 30), code, "t={time}");
        }
    }

    #[test]
    fn base32_decodes_rfc_4648_vectors() {
        assert_eq!(
            rfc3548_base32_decode("MZXW6YTBOI======").unwrap(),
            b"foobar"
        );
        assert_eq!(rfc3548_base32_decode("mzxw6"), Some(b"foo".to_vec()));
        assert_eq!(rfc3548_base32_decode("M1"), None);
    }

    #[test]
    fn confirmation_lists_five_steps_and_depends_on_the_price() {
        // base32 of "12345678901234567890".
        let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let codes = pos_confirmation(key, Algorithm::TotpWithoutPrice, None, 59).unwrap();
        let lines: Vec<&str> = codes.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[2], "94287082");
        assert_eq!(pos_confirmation(key, Algorithm::None, None, 59), None);
        assert_eq!(
            pos_confirmation(key, Algorithm::TotpWithPrice, None, 59),
            None
        );
        let one = Amount::new("KUDOS", 1, 0).unwrap();
        let two = Amount::new("KUDOS", 2, 0).unwrap();
        let a = pos_confirmation(key, Algorithm::TotpWithPrice, Some(&one), 59).unwrap();
        let b = pos_confirmation(key, Algorithm::TotpWithPrice, Some(&two), 59).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, codes);
        assert_eq!(
            a,
            pos_confirmation(key, Algorithm::TotpWithPrice, Some(&one), 59).unwrap()
        );
    }
}
