//! The bank's payto URIs, as libeufin-bank reads and writes them. Every payto URI a
//! client sends is parsed into its canonical form before it is matched against an
//! account: `payto://x-taler-bank/localhost/<username>` whatever host it names, or
//! `payto://iban/<IBAN>` (upper case, without separators, without BIC). Parameters
//! (`receiver-name`, `message`, `amount`) never take part in the match. The bank shows
//! its accounts' URIs in the configured form ([`BankWire`]) with the owner's name.

use crate::{
    config::BankWire,
    store::bank::Account,
    taler::{ApiError, ErrorCode},
};

/// What a payto URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `payto://iban/[BIC/]IBAN`.
    Iban { bic: Option<String>, iban: String },
    /// `payto://x-taler-bank/HOST/USERNAME`.
    XTalerBank { username: String },
}

/// A parsed payto URI: what it names, in canonical form, and its query parameters.
#[derive(Debug, Clone)]
pub struct Payto {
    /// The canonical URI of the account it names, the key accounts are found by.
    pub key: String,
    pub target: Target,
    params: Vec<(String, String)>,
}

/// The canonical payto URI of the `x-taler-bank` account `username`.
pub fn x_taler_bank_key(username: &str) -> String {
    format!("payto://x-taler-bank/localhost/{username}")
}

/// The canonical payto URI of an IBAN.
pub fn iban_key(iban: &str) -> String {
    format!("payto://iban/{iban}")
}

/// The full payto URI the bank shows for the account whose canonical URI is
/// `payto_key`, with `name` as `receiver-name`: the configured host, or BIC.
pub fn payto_with_name(wire: &BankWire, payto_key: &str, name: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let shown = match (
        wire,
        payto_key.strip_prefix("payto://x-taler-bank/localhost/"),
    ) {
        (BankWire::XTalerBank { hostname }, Some(username)) => {
            format!("payto://x-taler-bank/{hostname}/{username}")
        }
        (BankWire::Iban { bic: Some(bic) }, None) => {
            match payto_key.strip_prefix("payto://iban/") {
                Some(iban) => format!("payto://iban/{bic}/{iban}"),
                None => payto_key.to_owned(),
            }
        }
        _ => payto_key.to_owned(),
    };
    format!("{shown}?receiver-name={name}")
}

/// The full payto URI of an account, with its owner's name.
pub fn accounts_payto(wire: &BankWire, account: &Account) -> String {
    payto_with_name(wire, &account.payto_key, &account.name)
}

/// libeufin-bank answers a payto URI it cannot read with 400 `GENERIC_JSON_INVALID`.
fn bad(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::GenericJsonInvalid,
        format!("{field} is not a payto URI this bank reads: {why}"),
    )
    .parameter(field)
}

impl Payto {
    /// Parses the payto URI in the request field `field`.
    pub fn parse(text: &str, field: &str) -> Result<Payto, ApiError> {
        let url = url::Url::parse(text).map_err(|e| bad(field, e))?;
        if url.scheme() != "payto" {
            return Err(bad(field, "the scheme is not `payto`"));
        }
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        // The JSON body holds no NUL, but `%00` decodes to one; PostgreSQL stores no
        // text with NUL, and a subject is stored.
        if params
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(bad(field, "its parameters contain NUL (%00)"));
        }
        let segments: Vec<String> = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let kind = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let (key, target) = match kind.as_str() {
            "iban" => {
                let (bic, raw) = match segments.as_slice() {
                    [iban] => (None, iban),
                    [bic, iban] => (Some(bic.to_ascii_uppercase()), iban),
                    _ => return Err(bad(field, "an IBAN payto URI is iban/[BIC/]IBAN")),
                };
                let iban = normalize_iban(raw).ok_or_else(|| bad(field, "the IBAN is invalid"))?;
                (iban_key(&iban), Target::Iban { bic, iban })
            }
            "x-taler-bank" => match segments.as_slice() {
                [_host, username] => (
                    x_taler_bank_key(username),
                    Target::XTalerBank {
                        username: username.clone(),
                    },
                ),
                _ => {
                    return Err(bad(
                        field,
                        "an x-taler-bank payto URI is x-taler-bank/HOST/USERNAME",
                    ));
                }
            },
            other => return Err(bad(field, format!("unsupported payto kind `{other}`"))),
        };
        Ok(Payto {
            key,
            target,
            params,
        })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub use crate::taler::payto::normalize_iban;

/// A fresh IBAN for a new account, as libeufin-bank makes them (`IBAN.rand`): `DE`,
/// the check digits and 11 random digits.
pub fn random_iban() -> String {
    let mut bytes = [0u8; 11];
    getrandom::fill(&mut bytes).expect("the system's random source");
    let bban: String = bytes.iter().map(|b| char::from(b'0' + b % 10)).collect();
    // Check digits: 98 - (BBAN ++ "DE00" as digits) mod 97.
    let mut rem: u32 = 0;
    for c in format!("{bban}131400").bytes() {
        rem = (rem * 10 + u32::from(c - b'0')) % 97;
    }
    format!("DE{:02}{bban}", 98 - rem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let p = Payto::parse(
            "payto://x-taler-bank/bank.example.com/alice?receiver-name=A",
            "p",
        )
        .unwrap();
        assert_eq!(p.key, "payto://x-taler-bank/localhost/alice");
        assert_eq!(p.param("receiver-name"), Some("A"));
        let p = Payto::parse("payto://IBAN/de89 3704 0044 0532 0130 00?message=x", "p").unwrap();
        assert_eq!(p.key, "payto://iban/DE89370400440532013000");
        let p = Payto::parse("payto://iban/COBADEFF/DE89370400440532013000", "p").unwrap();
        assert_eq!(p.key, "payto://iban/DE89370400440532013000");
        assert!(Payto::parse("payto://iban/DE89370400440532013001", "p").is_err());
        assert!(Payto::parse("payto://x-taler-bank/alice", "p").is_err());
        assert!(Payto::parse("payto://void/alice", "p").is_err());
        assert!(Payto::parse("http://x-taler-bank/localhost/alice", "p").is_err());
    }

    #[test]
    fn random_ibans_are_valid() {
        for _ in 0..100 {
            let iban = random_iban();
            assert_eq!(normalize_iban(&iban).as_deref(), Some(iban.as_str()));
        }
    }

    #[test]
    fn shown_forms() {
        let x = BankWire::XTalerBank {
            hostname: "bank.example.com".into(),
        };
        assert_eq!(
            payto_with_name(&x, "payto://x-taler-bank/localhost/bob", "Bob B"),
            "payto://x-taler-bank/bank.example.com/bob?receiver-name=Bob+B"
        );
        let i = BankWire::Iban {
            bic: Some("SANDBOXX".into()),
        };
        assert_eq!(
            payto_with_name(&i, "payto://iban/DE89370400440532013000", "Bob"),
            "payto://iban/SANDBOXX/DE89370400440532013000?receiver-name=Bob"
        );
    }
}
