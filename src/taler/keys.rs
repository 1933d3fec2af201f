//! Taler's Crockford base32 encoding and the keys that travel in it.

use std::{fmt, str::FromStr};

use super::amount::string_type;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Encodes bytes as Taler does: Crockford's alphabet, no padding, upper case.
///
/// Written here, not taken from a crate: the base32 crates' Crockford decoders read
/// `I`, `L` and `O` as `1`, `1` and `0` and accept lower case, so one key would have
/// several spellings; Taler's keys, hashes and order ids compare as text and must have
/// one. The round trip and the refusals are tested below.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity((data.len() * 8).div_ceil(5));
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes exactly `len` bytes; refuses other lengths, foreign characters and
/// non-zero padding bits, so every value has one spelling.
pub fn decode(s: &str, len: usize) -> Option<Vec<u8>> {
    if s.len() != (len * 8).div_ceil(5) {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (buffer == 0).then_some(out)
}

/// An Ed25519 public key (`EddsaPublicKey`): 32 bytes in Crockford base32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EddsaPublicKey(pub [u8; 32]);

/// Why a string is not a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError;

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "must be 32 bytes in Crockford base32 (52 characters of 0-9, A-Z without I, L, O, U)",
        )
    }
}

impl std::error::Error for KeyError {}

impl FromStr for EddsaPublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = decode(s, 32).ok_or(KeyError)?;
        Ok(EddsaPublicKey(bytes.try_into().expect("decoded 32 bytes")))
    }
}

impl fmt::Display for EddsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode(&self.0))
    }
}

string_type!(
    EddsaPublicKey,
    "EddsaPublicKey",
    "An Ed25519 public key: 32 bytes in Crockford base32 without padding (52 characters).",
    "^[0-9A-HJKMNP-TV-Z]{51}[0G]$",
    "BDR33S2FBP0Q8YCM5JGXY37NYZRTX0HHZXM3P4ZD1ER2AN2DA9QG"
);

/// Fixed-size binary values in Crockford base32: hashes, signatures, nonces.
macro_rules! fixed_base32 {
    ($ty:ident, $len:literal, $name:literal, $description:literal, $pattern:literal, $example:literal) => {
        #[doc = $description]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty(pub [u8; $len]);

        impl FromStr for $ty {
            type Err = Base32Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let bytes = decode(s, $len).ok_or(Base32Error($description))?;
                Ok($ty(bytes.try_into().expect("decoded the length asked for")))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&encode(&self.0))
            }
        }

        string_type!($ty, $name, $description, $pattern, $example);
    };
}

/// Why a string is not the binary value expected (what was expected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base32Error(&'static str);

impl fmt::Display for Base32Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "must be {}", self.0.trim_end_matches('.'))
    }
}

impl std::error::Error for Base32Error {}

fixed_base32!(
    HashCode,
    64,
    "HashCode",
    "a SHA-512 hash: 64 bytes in Crockford base32 without padding (103 characters).",
    "^[0-9A-HJKMNP-TV-Z]{102}[08GR]$",
    "HEKH17WC91TW5YHREZ8SK5Y8Z15J5J4KFCRJMW7BVVRSS4DNPCZWETM1695AB3B1DFNRVEFHCW6Z8MNP83MZQMJNFJRMG3DXA5YKCQR"
);

fixed_base32!(
    EddsaSignature,
    64,
    "EddsaSignature",
    "an Ed25519 signature: 64 bytes in Crockford base32 without padding (103 characters).",
    "^[0-9A-HJKMNP-TV-Z]{102}[08GR]$",
    "SAAM5BA1F9H4VT6T78CFC3X63HAMY2TXB597XBVZ0EMXEZ90QPJ3000BXDBJ3ECHGB8AEX9FFQ5BAXVSF6X6NXM98PY353F2R99PP1R"
);

fixed_base32!(
    Nonce32,
    32,
    "Nonce32",
    "a nonce: 32 bytes in Crockford base32 without padding (52 characters).",
    "^[0-9A-HJKMNP-TV-Z]{51}[0G]$",
    "3SWF49XZPHQMENTSBZQR7Z0B8ZSZ2JRARE79Q4VXZMQ7W6QABXMG"
);

/// Bytes of a variable-length value (an RSA integer of at most 4096 bits), in Crockford
/// base32: blinded messages and RSA signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaBytes(pub Vec<u8>);

impl RsaBytes {
    /// The most bytes it may hold.
    pub const MAX: usize = 512;
}

impl FromStr for RsaBytes {
    type Err = Base32Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = Base32Error("1 to 512 bytes in Crockford base32 without padding");
        let len = s.len() * 5 / 8;
        if len == 0 || len > Self::MAX {
            return Err(bad);
        }
        decode(s, len).map(RsaBytes).ok_or(bad)
    }
}

impl fmt::Display for RsaBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode(&self.0))
    }
}

string_type!(
    RsaBytes,
    "RsaBytes",
    "An RSA integer (blinded message or signature): 1 to 512 bytes, big-endian, in Crockford base32 without padding.",
    "^[0-9A-HJKMNP-TV-Z]{2,820}$",
    "EC5MVSPGQMM96N2VT4R2G5104E61V8RY4PR6AK9F614TVVEN7D152T0DP97CDTRDDSQG"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        for len in 0..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let s = encode(&data);
            assert_eq!(decode(&s, len).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn known_vector() {
        // "Hello" in Crockford base32 (RFC-style bit order, as GNUnet uses).
        assert_eq!(encode(b"Hello"), "91JPRV3F");
        assert_eq!(decode("91JPRV3F", 5).unwrap(), b"Hello");
    }

    #[test]
    fn eddsa_key_parses_and_refuses() {
        let key = EddsaPublicKey([7u8; 32]);
        let s = key.to_string();
        assert_eq!(s.len(), 52);
        assert_eq!(s.parse::<EddsaPublicKey>().unwrap(), key);
        // wrong length
        assert!(s[..51].parse::<EddsaPublicKey>().is_err());
        assert!(format!("{s}0").parse::<EddsaPublicKey>().is_err());
        // letters outside the alphabet, lower case
        assert!(format!("U{}", &s[1..]).parse::<EddsaPublicKey>().is_err());
        assert!(s.to_lowercase().parse::<EddsaPublicKey>().is_err());
        // non-zero padding bits in the last character
        assert!(format!("{}1", &s[..51]).parse::<EddsaPublicKey>().is_err());
    }

    #[test]
    fn example_in_schema_is_valid() {
        assert!(
            "BDR33S2FBP0Q8YCM5JGXY37NYZRTX0HHZXM3P4ZD1ER2AN2DA9QG"
                .parse::<EddsaPublicKey>()
                .is_ok()
        );
    }
}
