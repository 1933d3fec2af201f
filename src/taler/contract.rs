//! Contract terms as Taler hashes and signs them, following the exchange's
//! `src/json/json.c` (`TALER_JSON_contract_hash`, `..._mark_forgettable`,
//! `..._part_forget`, `..._seed_forgettable`) and `taler_signatures.h`:
//!
//! - Canonical form: compact JSON with object keys sorted bytewise (jansson's
//!   `JSON_COMPACT | JSON_SORT_KEYS`), strings escaped as RFC 8785 does (`\"`, `\\`,
//!   `\b \f \n \r \t`, other control characters as lowercase `\u00xx`, everything else
//!   as UTF-8). Floating-point numbers are refused: they have no canonical form.
//! - Forgettable fields: an object's `$forgettable` maps field names to salts. To hash,
//!   each such field is replaced by its salted hash in `$forgotten` (GNUnet's KDF, the
//!   salt and the field's canonical form each with their terminating NUL), recursively.
//! - The hash: SHA-512 over the canonical form of the result plus its terminating NUL.
//! - The merchant's signature: Ed25519 over `TALER_ProposalDataPS` (purpose
//!   `TALER_SIGNATURE_MERCHANT_CONTRACT` = 1101, then the 64-byte hash).

use serde_json::{Map, Value};
use sha2::{Digest, Sha512};

use crate::taler::{
    kdf::{gnunet_kdf, gnunet_kdf_with_context},
    keys, secret,
};

/// `TALER_SIGNATURE_MERCHANT_CONTRACT`.
const PURPOSE_MERCHANT_CONTRACT: u32 = 1101;
const FORGETTABLE: &str = "$forgettable";
const FORGOTTEN: &str = "$forgotten";

/// Why a JSON value cannot be hashed as contract terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotHashable(pub String);

/// The canonical form (without the NUL the hash appends).
pub fn canonical_json(value: &Value) -> Result<String, NotHashable> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), NotHashable> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // A wallet reads the terms with JavaScript, whose numbers hold integers exactly
        // only up to 2^53 - 1: a larger one would hash differently there.
        Value::Number(n)
            if n.as_i64()
                .map(i64::unsigned_abs)
                .or(n.as_u64())
                .is_some_and(|v| v > crate::taler::time::MAX_SAFE_INTEGER) =>
        {
            return Err(NotHashable(format!(
                "the integer {n} is beyond 2^53 - 1, which JavaScript wallets cannot represent"
            )));
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
        Value::Number(n) => {
            return Err(NotHashable(format!(
                "the number {n} is not an integer; contract terms carry no reals"
            )));
        }
        // serde_json escapes exactly as RFC 8785 (lowercase hex, no `/` escape).
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// The canonical form with its terminating NUL, as the C code hashes it.
fn canonical_bytes(value: &Value) -> Result<Vec<u8>, NotHashable> {
    let mut bytes = canonical_json(value)?.into_bytes();
    bytes.push(0);
    Ok(bytes)
}

/// The salted hash of a forgettable field's (already forgotten) value.
fn salted_hash(value: &Value, salt: &str) -> Result<Vec<u8>, NotHashable> {
    let mut xts = salt.as_bytes().to_vec();
    xts.push(0);
    Ok(gnunet_kdf(&xts, &canonical_bytes(value)?, 64))
}

/// `forget()` of json.c: every forgettable field replaced by its salted hash under
/// `$forgotten`, the salts dropped, recursively.
fn forget(value: &Value) -> Result<Value, NotHashable> {
    match value {
        Value::Array(items) => Ok(Value::Array(
            items.iter().map(forget).collect::<Result<_, _>>()?,
        )),
        Value::Object(map) => {
            let salts = map.get(FORGETTABLE);
            let mut forgotten = match map.get(FORGOTTEN) {
                Some(Value::Object(f)) => Some(f.clone()),
                Some(_) => return Err(NotHashable(format!("`{FORGOTTEN}` must be an object"))),
                None => None,
            };
            let mut out = Map::new();
            for (key, member) in map {
                if key == FORGETTABLE || key == FORGOTTEN {
                    continue;
                }
                if forgotten.as_ref().is_some_and(|f| f.contains_key(key)) {
                    continue; // forgotten earlier
                }
                let member = forget(member)?;
                match salts.and_then(|s| s.get(key)) {
                    Some(Value::String(salt)) => {
                        let hash = salted_hash(&member, salt)?;
                        forgotten
                            .get_or_insert_with(Map::new)
                            .insert(key.clone(), Value::String(keys::encode(&hash)));
                    }
                    Some(_) => {
                        return Err(NotHashable(format!(
                            "the salt of forgettable field `{key}` must be a string"
                        )));
                    }
                    None => {
                        out.insert(key.clone(), member);
                    }
                }
            }
            if let Some(forgotten) = forgotten {
                out.insert(FORGOTTEN.to_owned(), Value::Object(forgotten));
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// `TALER_JSON_contract_hash`: the 64-byte hash of contract terms.
pub fn contract_hash(terms: &Value) -> Result<[u8; 64], NotHashable> {
    let digest = Sha512::digest(canonical_bytes(&forget(terms)?)?);
    Ok(digest.into())
}

/// `TALER_JSON_contract_seed_forgettable`: every `true` in a `$forgettable` object
/// becomes a fresh random salt. Anything but a string or `true` there is refused.
pub fn seed_forgettable(value: &mut Value) -> Result<(), NotHashable> {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if key == FORGETTABLE {
                    let Value::Object(salts) = member else {
                        return Err(NotHashable(format!("`{FORGETTABLE}` must be an object")));
                    };
                    for (field, salt) in salts.iter_mut() {
                        match salt {
                            Value::String(_) => {}
                            Value::Bool(true) => {
                                *salt = Value::String(keys::encode(&secret::random_bytes::<32>()));
                            }
                            _ => {
                                return Err(NotHashable(format!(
                                    "`{FORGETTABLE}.{field}` must be true or a salt"
                                )));
                            }
                        }
                    }
                } else {
                    seed_forgettable(member)?;
                }
            }
            // A salt for a field that is not there would make the field unforgettable
            // in a way the wallet cannot check.
            if let Some(Value::Object(salts)) = map.get(FORGETTABLE)
                && let Some(missing) = salts.keys().find(|f| !map.contains_key(*f))
            {
                return Err(NotHashable(format!(
                    "`{FORGETTABLE}` names `{missing}`, which is not a field here"
                )));
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(seed_forgettable),
        _ => Ok(()),
    }
}

/// What forgetting one field did.
#[derive(Debug, PartialEq, Eq)]
pub enum Forgot {
    /// Replaced by its salted hash now.
    Now,
    /// Forgotten before.
    Already,
}

/// `TALER_JSON_contract_part_forget`: replaces `field` of `object` by its salted hash
/// under `$forgotten` and drops its salt. The contract hash stays the same.
pub fn forget_field(object: &mut Map<String, Value>, field: &str) -> Result<Forgot, NotHashable> {
    if object.get(FORGOTTEN).and_then(|f| f.get(field)).is_some() {
        return Ok(Forgot::Already);
    }
    let Some(member) = object.get(field) else {
        return Err(NotHashable(format!("there is no field `{field}`")));
    };
    let Some(Value::String(salt)) = object.get(FORGETTABLE).and_then(|s| s.get(field)) else {
        return Err(NotHashable(format!("field `{field}` is not forgettable")));
    };
    let hash = salted_hash(&forget(member)?, salt)?;
    if let Some(Value::Object(salts)) = object.get_mut(FORGETTABLE) {
        salts.remove(field);
    }
    object.remove(field);
    let forgotten = object
        .entry(FORGOTTEN)
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(f) = forgotten {
        f.insert(field.to_owned(), Value::String(keys::encode(&hash)));
    }
    Ok(Forgot::Now)
}

/// `TALER_merchant_wire_signature_hash`: `h_wire` of a merchant account, the KDF of
/// the payto URI (with its NUL) under the account's 16-byte salt, with the context
/// "merchant-wire-signature".
pub fn merchant_wire_hash(payto_uri: &str, salt: &[u8; 16]) -> [u8; 64] {
    let mut skm = payto_uri.as_bytes().to_vec();
    skm.push(0);
    gnunet_kdf_with_context(salt, &skm, b"merchant-wire-signature", 64)
        .try_into()
        .expect("64 bytes")
}

/// `TALER_merchant_contract_sign`: the instance's Ed25519 signature over
/// `TALER_ProposalDataPS`.
pub fn sign_contract(merchant_priv: &[u8; 32], h_contract_terms: &[u8; 64]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(merchant_priv);
    key.sign(&contract_purpose(h_contract_terms)).to_bytes()
}

/// The signed bytes: size and purpose (both 32-bit big-endian), then the hash.
pub fn contract_purpose(h_contract_terms: &[u8; 64]) -> Vec<u8> {
    let mut message = Vec::with_capacity(8 + 64);
    message.extend_from_slice(&(8u32 + 64).to_be_bytes());
    message.extend_from_slice(&PURPOSE_MERCHANT_CONTRACT.to_be_bytes());
    message.extend_from_slice(h_contract_terms);
    message
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crock(hash: [u8; 64]) -> String {
        keys::encode(&hash)
    }

    /// The reference vector of taler-exchange `src/json/test_json.c` (`test_contract`),
    /// also in wallet-core's `contractTerms.test.ts`.
    #[test]
    fn reference_vector_of_the_exchange() {
        let terms = json!({
            "k1": 1,
            "$forgettable": {"k1": "SALT"},
            "k2": {"n1": true, "$forgettable": {"n1": "salt"}},
            "k3": {"n1": "string"},
        });
        assert_eq!(
            crock(contract_hash(&terms).unwrap()),
            "VDE8JPX0AEEE3EX1K8E11RYEWSZQKGGZCV6BWTE4ST1C8711P7H850Z7F2Q2HSSYETX87ERC2JNHWB7GTDWTDWMM716VKPSRBXD7SRR"
        );
    }

    /// `test_contract` of test_json.c: forgetting fields, one level deep and nested,
    /// keeps the hash.
    #[test]
    fn forgetting_keeps_the_hash() {
        let mut c1 = json!({
            "k1": "v1",
            "k2": {"n1": "n2", "$forgettable": {"n1": "salt"}},
        });
        // mark_forgettable(c1, "k1") and (c1, "k2").
        c1["$forgettable"] = json!({"k1": true, "k2": true});
        seed_forgettable(&mut c1).unwrap();
        let h1 = contract_hash(&c1).unwrap();
        let Value::Object(map) = &mut c1 else {
            panic!()
        };
        assert_eq!(forget_field(map, "k1").unwrap(), Forgot::Now);
        assert!(map[FORGETTABLE].get("k1").is_none(), "the salt is dropped");
        assert_eq!(contract_hash(&c1).unwrap(), h1);
        let Value::Object(k2) = &mut c1["k2"] else {
            panic!()
        };
        forget_field(k2, "n1").unwrap();
        assert_eq!(contract_hash(&c1).unwrap(), h1);
        let Value::Object(map) = &mut c1 else {
            panic!()
        };
        forget_field(map, "k2").unwrap();
        assert_eq!(forget_field(map, "k2").unwrap(), Forgot::Already);
        assert_eq!(contract_hash(&c1).unwrap(), h1);
    }

    #[test]
    fn canonical_form_sorts_keys_and_escapes_as_rfc_8785() {
        let v = json!({"b": [1, -2, true, null], "a": "\u{8}\u{b}\t\u{1}\\\r/é€\"", "": {}});
        assert_eq!(
            canonical_json(&v).unwrap(),
            "{\"\":{},\"a\":\"\\b\\u000b\\t\\u0001\\\\\\r/é€\\\"\",\"b\":[1,-2,true,null]}"
        );
        assert!(canonical_json(&json!({"x": 1.5})).is_err());
        assert!(canonical_json(&json!([1e300])).is_err());
    }

    #[test]
    fn unsalted_and_misplaced_salts_are_refused() {
        assert!(seed_forgettable(&mut json!({"a": 1, "$forgettable": {"a": 5}})).is_err());
        assert!(seed_forgettable(&mut json!({"a": 1, "$forgettable": {"b": true}})).is_err());
        assert!(contract_hash(&json!({"a": 1, "$forgettable": {"a": 2}})).is_err());
    }

    #[test]
    fn signature_verifies_with_the_public_key() {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let seed = [7u8; 32];
        let h = contract_hash(&json!({"amount": "KUDOS:1"})).unwrap();
        let sig = sign_contract(&seed, &h);
        let public: VerifyingKey = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let mut message = vec![0, 0, 0, 72, 0, 0, 0x04, 0x4d];
        message.extend_from_slice(&h);
        assert_eq!(contract_purpose(&h), message);
        public
            .verify(&message, &Signature::from_bytes(&sig))
            .unwrap();
    }
}
