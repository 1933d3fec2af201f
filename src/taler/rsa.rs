//! RSA blind signatures as GNUnet and GNU Taler make them: GNUnet's public-key
//! encoding, its full-domain hash and blinding factor (`GNUNET_CRYPTO_kdf_mod_mpi`),
//! and the raw signing and verification around them.
//!
//! The wallet's code is the reference (taler-util's `rsaFullDomainHash`, `rsaBlind`,
//! `rsaUnblind`, `rsaVerify`): a message it blinds must verify here, and GNUnet's
//! `rsa_blind_signing` test vector is reproduced below. The arithmetic is RustCrypto's:
//! key generation, the private-key operation (blinded, CRT-checked) and the public one
//! come from the `rsa` crate on constant-time `crypto-bigint` integers.

use rsa::{
    BoxedUint, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey,
    hazmat::{rsa_decrypt_and_check, rsa_encrypt},
    pkcs8::{DecodePrivateKey, EncodePrivateKey},
    traits::PublicKeyParts,
};

use super::kdf::gnunet_kdf_with_context;

/// Largest modulus accepted anywhere (bits).
pub const MAX_BITS: usize = 4096;

/// The context of the full-domain hash, as GNUnet spells it.
const FDH_CONTEXT: &[u8] = b"RSA-FDA FTpsW!";
const BLINDING_SALT: &[u8] = b"Blinding KDF extractor HMAC key";
const BLINDING_CONTEXT: &[u8] = b"Blinding KDF";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaError(pub &'static str);

impl std::fmt::Display for RsaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RsaError {}

/// A public key and its GNUnet encoding.
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: RsaPublicKey,
}

impl PublicKey {
    /// GNUnet's `GNUNET_CRYPTO_rsa_public_key_encode`: `u16 modulus length ‖ u16
    /// exponent length ‖ modulus ‖ exponent`, big-endian, without leading zeros.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.key.n().as_ref().to_be_bytes_trimmed_vartime();
        let e = self.key.e().to_be_bytes_trimmed_vartime();
        let mut out = Vec::with_capacity(4 + n.len() + e.len());
        out.extend_from_slice(&(n.len() as u16).to_be_bytes());
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(&n);
        out.extend_from_slice(&e);
        out
    }

    /// Reads GNUnet's encoding.
    pub fn decode(bytes: &[u8]) -> Result<PublicKey, RsaError> {
        let bad = RsaError("not a GNUnet RSA public key");
        if bytes.len() < 4 {
            return Err(bad);
        }
        let n_len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        let e_len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if 4 + n_len + e_len != bytes.len() || n_len == 0 || e_len == 0 || n_len * 8 > MAX_BITS {
            return Err(bad);
        }
        let n = BoxedUint::from_be_slice_vartime(&bytes[4..4 + n_len]);
        let e = BoxedUint::from_be_slice_vartime(&bytes[4 + n_len..]);
        let key = RsaPublicKey::new(n, e).map_err(|_| bad)?;
        Ok(PublicKey { key })
    }

    /// Size of the modulus in bytes.
    pub fn size(&self) -> usize {
        self.key.size()
    }

    fn n(&self) -> &BoxedUint {
        self.key.n().as_ref()
    }

    /// An integer below the modulus from big-endian bytes, or `None`.
    fn below_n(&self, bytes: &[u8]) -> Option<BoxedUint> {
        if bytes.is_empty() || bytes.len() > self.size() {
            return None;
        }
        let x = BoxedUint::from_be_slice(bytes, self.key.n_bits_precision())
            .or_else(|_| {
                // Fewer bytes than the precision's: pad on the left.
                let mut padded = vec![0u8; self.key.n_bits_precision().div_ceil(8) as usize];
                let start = padded.len() - bytes.len();
                padded[start..].copy_from_slice(bytes);
                BoxedUint::from_be_slice(&padded, self.key.n_bits_precision())
            })
            .ok()?;
        (x < *self.n()).then_some(x)
    }

    /// GNUnet's `GNUNET_CRYPTO_kdf_mod_mpi`: KDF output of the modulus's length, its
    /// top bits masked to the modulus's bit length, counter appended to the context,
    /// until the value is below the modulus.
    fn kdf_mod(&self, ikm: &[u8], salt: &[u8], context: &[u8]) -> BoxedUint {
        let nbits = self.n().bit_width_vartime() as usize;
        let len = (nbits - 1) / 8 + 1;
        let mask = (1u16 << (8 - (len * 8 - nbits))) - 1;
        let mut counter: u16 = 0;
        loop {
            let mut ctx = context.to_vec();
            ctx.extend_from_slice(&counter.to_be_bytes());
            let mut out = gnunet_kdf_with_context(salt, ikm, &ctx, len);
            out[0] &= mask as u8;
            if let Some(x) = self.below_n(&out) {
                return x;
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// The full-domain hash of a message hash (`rsaFullDomainHash`); `None` when it
    /// shares a factor with the modulus (a key made to deanonymize).
    fn full_domain_hash(&self, message_hash: &[u8]) -> Option<BoxedUint> {
        let r = self.kdf_mod(message_hash, &self.encode(), FDH_CONTEXT);
        coprime(&r, self.key.n()).then_some(r)
    }

    /// Whether `signature` is this key's signature of `message_hash` (`rsaVerify`).
    pub fn verify(&self, message_hash: &[u8], signature: &[u8]) -> bool {
        let (Some(s), Some(fdh)) = (self.below_n(signature), self.full_domain_hash(message_hash))
        else {
            return false;
        };
        rsa_encrypt(&self.key, &s).is_ok_and(|m| m == fdh)
    }

    /// The blinding factor of a blinding key secret.
    fn blinding_factor(&self, secret: &[u8]) -> Option<BoxedUint> {
        let r = self.kdf_mod(secret, BLINDING_SALT, BLINDING_CONTEXT);
        coprime(&r, self.key.n()).then_some(r)
    }

    /// What a wallet sends to be signed (`rsaBlind`): `FDH(m) · r^e mod n`.
    pub fn blind(&self, message_hash: &[u8], secret: &[u8]) -> Result<Vec<u8>, RsaError> {
        let bad = RsaError("this key cannot blind (it shares a factor with the hash)");
        let fdh = self.full_domain_hash(message_hash).ok_or(bad.clone())?;
        let r = self.blinding_factor(secret).ok_or(bad)?;
        let r_e = rsa_encrypt(&self.key, &r).map_err(|_| RsaError("blinding failed"))?;
        Ok(trimmed(&r_e.mul_mod(&fdh, self.key.n())))
    }

    /// The signature from a blind one (`rsaUnblind`): `s' · r⁻¹ mod n`.
    pub fn unblind(&self, blind_signature: &[u8], secret: &[u8]) -> Result<Vec<u8>, RsaError> {
        let bad = RsaError("not a blind signature of this key");
        let s = self.below_n(blind_signature).ok_or(bad.clone())?;
        let r = self.blinding_factor(secret).ok_or(bad.clone())?;
        let r_inv = Option::<BoxedUint>::from(r.invert_mod(self.key.n())).ok_or(bad)?;
        Ok(trimmed(&s.mul_mod(&r_inv, self.key.n())))
    }
}

/// gcd(r, n) = 1, tested as "r has an inverse modulo n".
fn coprime(r: &BoxedUint, n: &crypto_bigint::NonZero<BoxedUint>) -> bool {
    bool::from(r.invert_mod(n).is_some())
}

/// Big-endian bytes without leading zeros, as GNUnet prints its integers.
fn trimmed(x: &BoxedUint) -> Vec<u8> {
    let bytes = x.to_be_bytes_trimmed_vartime().into_vec();
    if bytes.is_empty() { vec![0] } else { bytes }
}

/// A private key: signs blinded messages. Its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct PrivateKey {
    key: RsaPrivateKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl PrivateKey {
    /// A fresh key of `bits` bits (public exponent 65537), from the operating
    /// system's random numbers.
    pub fn generate(bits: usize) -> Result<PrivateKey, RsaError> {
        let key = RsaPrivateKey::new(&mut getrandom::SysRng, bits)
            .map_err(|_| RsaError("RSA key generation failed"))?;
        Ok(PrivateKey { key })
    }

    /// From a modulus, exponents and the two primes (big-endian).
    pub fn from_components(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        p: &[u8],
        q: &[u8],
    ) -> Result<PrivateKey, RsaError> {
        let int = BoxedUint::from_be_slice_vartime;
        let key = RsaPrivateKey::from_components(int(n), int(e), int(d), vec![int(p), int(q)])
            .map_err(|_| RsaError("not an RSA private key"))?;
        Ok(PrivateKey { key })
    }

    /// PKCS#8 DER, how the key rests in the database.
    pub fn to_der(&self) -> Result<Vec<u8>, RsaError> {
        Ok(self
            .key
            .to_pkcs8_der()
            .map_err(|_| RsaError("cannot encode the private key"))?
            .as_bytes()
            .to_vec())
    }

    pub fn from_der(der: &[u8]) -> Result<PrivateKey, RsaError> {
        let key = RsaPrivateKey::from_pkcs8_der(der)
            .map_err(|_| RsaError("stored private key is not PKCS#8 RSA"))?;
        Ok(PrivateKey { key })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.to_public_key(),
        }
    }

    /// The blind signature of a blinded message: `m'^d mod n`, computed with fresh
    /// random blinding and checked against the public key (a faulty CRT step would
    /// leak the key). `Err` when the message is not below the modulus.
    pub fn sign_blinded(&self, blinded: &[u8]) -> Result<Vec<u8>, RsaError> {
        let public = self.public();
        let m = public.below_n(blinded).ok_or(RsaError(
            "the blinded message is not below the key's modulus",
        ))?;
        let s = rsa_decrypt_and_check(&self.key, Some(&mut getrandom::SysRng), &m)
            .map_err(|_| RsaError("RSA signing failed"))?;
        Ok(trimmed(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taler::keys;

    fn dec(s: &str) -> Vec<u8> {
        let len = s.len() * 5 / 8;
        keys::decode(s, len).expect("Crockford base32")
    }

    /// The value of `(1:<name><len>:<bytes>)` in the `private-key` part of a libgcrypt
    /// S-expression (GNUnet's private key encoding).
    fn sexp_field(sexp: &[u8], name: u8) -> &[u8] {
        let private = sexp
            .windows(15)
            .position(|w| w == b"(11:private-key")
            .unwrap();
        let tail = &sexp[private..];
        let marker = [b'(', b'1', b':', name];
        let start = tail.windows(4).position(|w| w == marker).unwrap() + 4;
        let rest = &tail[start..];
        let colon = rest.iter().position(|&b| b == b':').unwrap();
        let len: usize = std::str::from_utf8(&rest[..colon])
            .unwrap()
            .parse()
            .unwrap();
        &rest[colon + 1..colon + 1 + len]
    }

    /// GNUnet's `src/util/crypto-test-vectors.json`, operation `rsa_blind_signing`
    /// (GNUnet 0.14.0).
    const MESSAGE_HASH: &str = "XKQMJ4CNTXBFE1V2WR6JS063J7PZQE4XMB5JH3RS5X0THQ1JQSQ69Y7KDBC9TYRJEZH48MEPY2SF4QHQ4VHXC0YQX5935MQEGP0AX6R";
    const PUBLIC_KEY: &str = "040000YRN1NVJ68RS6RJF52PGRCQG19ZKWQPSTJX2G7ZDCKSZFE2VW3HHA81YF5C639JHJF5TX8YTEE2FW2WQCG1PTKNBSPPJEJGA032CN3E8QZ27VWY0K6JFT8ZSYWRH2SKDMXW56A4QKY46JJBWJ6T0ZRVBW6S1HTHXVE2RW8MXRW5T801077MDY13N5F8Z1JZVKBJ06TK3S0YPEDBXK0VEHRHEQJ5X5XYKR4KQTFAZNBMKXY8836VCHBXTK4YNX6AJ1CK29SMJH3Z3QRM16A2TNQGFR0HSMV446BF7FMT2E379ZAT5ST4G3BM2NWZYW545S2SW5MG5S6M88XZZ7SKFD48YVXNZ205GGSEYJPVBMR76WG4ZG30WBCPC1N54XE12RMAG81D8C09WG22PKGGDHYXX68N04002";
    const PRIVATE_KEY: &str = "50W3MTV5F4PP8RBMC4520A1H60X70XB2DHMP6BBBCNWGM81050SKMWKKC452081050RKMVHJ6MVKM06RN1NVJ68RS6RJF52PGRCQG19ZKWQPSTJX2G7ZDCKSZFE2VW3HHA81YF5C639JHJF5TX8YTEE2FW2WQCG1PTKNBSPPJEJGA032CN3E8QZ27VWY0K6JFT8ZSYWRH2SKDMXW56A4QKY46JJBWJ6T0ZRVBW6S1HTHXVE2RW8MXRW5T801077MDY13N5F8Z1JZVKBJ06TK3S0YPEDBXK0VEHRHEQJ5X5XYKR4KQTFAZNBMKXY8836VCHBXTK4YNX6AJ1CK29SMJH3Z3QRM16A2TNQGFR0HSMV446BF7FMT2E379ZAT5ST4G3BM2NWZYW545S2SW5MG5S6M88XZZ7SKFD48YVXNZ205GGSEYJPVBMR76WG4ZG30WBCPC1N54XE12RMAG81D8C09WG22PKGGDHYXX68N5452081050RKMS9K780G009918G2081918G20A8A40M32C9TE1S6JXK1EHJJTTV5F45208186CX74WV118G2081864X6WCHN6WX01P58DEWHJ669P4KS8NM635W0AFWZ5XPEMQ8M1ZVB4YFVVGPZ0WCAJ0FKSB1GTCMCKSEQA7PKKGKZ0Q5V40DPMXAYDNMKMM2G0RK58VJ5ZRHYZ7G4SMKYJ7YFQ648PCVD7F19JH5WZH1MMJZ4HPG7Y6TZ1P8CEMFEVGP7257E71EJ0081SX3FG8X9BT7RCQYWTWG1PMRY87NKKAZCR6VME4BNWHF9FFMY14XYKTQXAX4ZFJ20SPV4AZEMS7NF9JMGB4RJED4M8ZRXY509JGPNDW3Y04ED6S11JVSVX6GKGSTFTPHEEH40TX0NF7ZQ191E8PF1D41E9N227FZSYCVV927PZDFRG1C46BQMNPTX61SQ417W0R72V5K0D997BG8P52M20BA302F40GNMW43CFQF9J59918G2081864X6ACST04002A8A40G20A1H79J34D9P78SBPDS45EQZVX2D6R1GZ6FHKHDG4ABYZ6FCPSMMGZ29ZY5NS8B304D0QBD800A5SM3D8S92WKS3KFWFXE8X597TNJBR94BGNCFHY8TV63KQZ0RFMRTPHFA2XNFX2V4KECZNTHGKZNJTWH8051XP6FJJ6700A5KWMH24CK1KF9XVH2ATQJ4F1ZJZQM00A00ESTVKM5N58K5FN5TW34B1H1Q1CWRZXJ9QMBG0QKHXHZMFYZSN9ERV59935716NGSX9GBB3R9BY32TBTAJ7K0N391ATSE5263X5NKVDH7XCF1PF0WRTTJYBAJBQWVGJ8P7RGVWB27Q3S4AJJ55FS2T9K341EHATHJZQQTR0JWP5E4NQHR4GN60QMK2SY0VJM56N0NHJXRGAGJW3S9ABJ7M4TAV6YRJJ2H040G2GC9TE0RK4E9T03CET00DAJDXJ1NF511J69JMDDSVARPSFSS6AJTRMVXD10NVA4Z162ER74WNH0J6H2RTA9C9MZM4TEBP8P7AF0NANBH4XZJCNDZV7BEAMJ6R363GHZKGBR0HH1SATGWNJWGW2961MRFPX7S0RJK7CWYE7EX1XQ2683TENRPDKV29D1F1RNDD6P04MZTKSH5YMEZPKGEDRJZXXM9918G2081864X72C9J74X01ZXF256C681JDWRRG7T4AC9JRHP54YM65X9AT17YGC3G4569ZKBQEZ219Y7JG4V10F4AW7Q1XKGPTW3Y3X0WCTB06HM249Q094VHEYD4BTEQ2DF334W8G3VEB7N1CHCMPZEVVTR0XWQSNV6MBJRF5MBY6Z148YA36YA61EXA28PHE3KSN1M4HVF7B06JD736TSK9GC9CAG8F0MMGM81040M32EKN64S3JEG0YCC3PHPNBZAGQ2WE8HJHM28B049N2MQ94G8VPXNHG43C6ADB44DE1DK8ASMYTSXZWMAYKN1SS2GVFTVH8Q4N3TTJ3BKA61Y93QE17XNRF3S0CSSQTY3SVVAFHDA9APFFSMRYD67N4DXQ1X42NA270VF6H0MCRQ87JKVBQAB0CH2WH7RHYMCQ4KN50M2NEFE1YA6F2N2DG7Z9JA8A40G20A8A40G2J2H054500";
    const BLINDING_KEY_SECRET: &str = "3SWF49XZPHQMENTSBZQR7Z0B8ZSZ2JRARE79Q4VXZMQ7W6QABXMG";
    const BLINDED_MESSAGE: &str = "3KHKZJZ30ABB4E56MA2V0EQWGCWH0QQG9P2ZHYHR186C5HZXJMM4N9WXAQTKS94QSV9Y17GGNXN5MB1PZZFG7Q0FY88QPKKRG4MYCPSMTZK5W59R0MJVNJ4P4AQM96TDG5W7RV8GSNR1QQZ1GNHW3CX6D6ZRTMXB2NKB5SSYTDJS79F5ZFBRZ4HVED9JBBPWSR79KVV5QQ4APBGHBCKGMF9NJJS53A1BVYHDEVYAGFYF2SNEP827ZP50FKJ5GKGV8NQ15ESEZ69AT7GJG0T3TZVENY2YN9CVR98W3BKEZ53J7VTANARG8SJS8AMJQ7S23P5HRJ7XE9KTNRNXKH49MXV9JHHYE5535N7AGWEKR47SBCGNF44Z7XJ9RV5BQV12ZRJKN4HBZQHDNCMH3QKX9Z6G64";
    const BLINDED_SIG: &str = "ND1V807BK0G73SDXN582BP3Q21MWF4A76EGWD0KA3XGJAWPSVHNHKA44931ZRB9M76SYAFD8ZPTG3A7FH5G2CWGX76VXTCDX5XNRW7EEBNMPDAQ0ZEKF6AHP872SKCGRH89SK4NGC57M8BRA3ZRPDDT9XCBG3XY02VQH4Z0F39DPBS48K0EBMK7B9S3X6QDNR5ND5MV0G7G7T3VPKZRW94MQBKPY1T6K53MQGG4PV81D9YEWNRM3WE04NNQREYDA5ETVDWQ5ZCYV9HF4ZCMWVVGWDBDH732JA3NKZ2B8QK0E6XS0Y4GGGQJS6HFQ4PATGK3TS5GHJEPDF3A6XAFNJQV99CSJW7V1NC504NTQ5NJ8KAVC1758MBBV3SS2BND4YHF0Y4NWJNVH3STV166YWFKR8W";
    const SIG: &str = "EC5MVSPGQMM96N2VT4R2G5104E61V8RY4PR6AK9F614TVVEN7D152T0DP97CDTRDDSQGBV4GZWXQPM90SW30R2RAKKHNDCXHQFAMRSW1XCBEKVKBGC6FP0AQY9S37NVR01VJ2WVX8PN29H2ZFFQBQ9JK96GTJZ3B7DD583S8Y93GH5KWEM41CZJ73QCRT1A2AGVXX5ACFR0T448MC81QB4EGCKP5Z96VCX6RPDD5S9A4295M0E9PPQJCN5G5JKWKG17HWEDF4A26ZMD8YW27EQBZ69GSEZX4PWEV7AXFGG5X0RPKCQEPCX7XDY6NXJ1E2FZBX259RDRCFNDAZS80T0DHD9NVE73QDDESZYEZTM1TM669GHPN8AF4QV8DNW7SFZZKJ67FWR8CZC0PWTEN4ZPTRM";

    fn vector_key() -> PrivateKey {
        let sexp = dec(PRIVATE_KEY);
        let f = |name| sexp_field(&sexp, name);
        PrivateKey::from_components(f(b'n'), f(b'e'), f(b'd'), f(b'p'), f(b'q')).unwrap()
    }

    #[test]
    fn gnunet_rsa_blind_signing_vector() {
        let public = PublicKey::decode(&dec(PUBLIC_KEY)).unwrap();
        // Our encoding of the key is GNUnet's, byte for byte.
        assert_eq!(keys::encode(&public.encode()), PUBLIC_KEY);
        let hm = dec(MESSAGE_HASH);
        let bks = dec(BLINDING_KEY_SECRET);
        let blinded = public.blind(&hm, &bks).unwrap();
        assert_eq!(keys::encode(&blinded), BLINDED_MESSAGE);
        let private = vector_key();
        assert_eq!(private.public().encode(), public.encode());
        let blind_sig = private.sign_blinded(&blinded).unwrap();
        assert_eq!(keys::encode(&blind_sig), BLINDED_SIG);
        let sig = public.unblind(&blind_sig, &bks).unwrap();
        assert_eq!(keys::encode(&sig), SIG);
        assert!(public.verify(&hm, &sig));
        let mut other = hm.clone();
        other[0] ^= 1;
        assert!(!public.verify(&other, &sig));
        assert!(!public.verify(&hm, &blind_sig));
    }

    #[test]
    fn keys_round_trip_through_pkcs8() {
        let key = vector_key();
        let again = PrivateKey::from_der(&key.to_der().unwrap()).unwrap();
        assert_eq!(again.public().encode(), key.public().encode());
        assert_eq!(format!("{again:?}"), "PrivateKey(..)");
    }

    #[test]
    fn refuses_what_is_no_key_or_too_large() {
        assert!(PublicKey::decode(b"").is_err());
        assert!(PublicKey::decode(&[0, 1, 0, 1, 5]).is_err());
        let public = PublicKey::decode(&dec(PUBLIC_KEY)).unwrap();
        assert!(vector_key().sign_blinded(&vec![0xff; 256]).is_err());
        assert!(vector_key().sign_blinded(&vec![1; 257]).is_err());
        assert!(!public.verify(&[0; 64], &[]));
    }
}
