//! The bank's payto URIs: its own accounts' (`payto://x-taler-bank/<host>/<username>`
//! with the owner's name), and the ones clients send, split into the account they name
//! and their parameters.

use crate::taler::ApiError;

/// The host of the bank's own payto URIs (`payto://x-taler-bank/<host>/<username>`).
const PAYTO_HOST: &str = "localhost";

/// The payto key (the URI without its query) the bank gives the account `username`.
pub fn payto_key_of(username: &str) -> String {
    format!("payto://x-taler-bank/{PAYTO_HOST}/{username}")
}

/// The full payto URI of an account, with its owner's name.
pub fn accounts_payto(account: &crate::store::bank::Account) -> String {
    payto_with_name(&account.payto_key, &account.name)
}

pub fn payto_with_name(payto_key: &str, name: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("{payto_key}?receiver-name={name}")
}

/// A payto URI split into the account key (no query) and its query parameters.
pub struct Payto {
    pub key: String,
    params: Vec<(String, String)>,
}

impl Payto {
    pub fn parse(text: &str) -> Result<Payto, ApiError> {
        let bad = || ApiError::malformed("payto_uri", "payto_uri is not a payto:// URI");
        let url = url::Url::parse(text).map_err(|_| bad())?;
        if url.scheme() != "payto" || !url.has_host() || url.path().len() < 2 {
            return Err(bad());
        }
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        // The JSON body holds no NUL, but `%00` decodes to one; PostgreSQL stores no
        // text with NUL, and a subject is stored.
        if params
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::malformed(
                "payto_uri",
                "the payto URI's parameters must not contain NUL (%00)",
            ));
        }
        Ok(Payto {
            key: format!(
                "payto://{}{}",
                url.host_str().unwrap_or_default().to_ascii_lowercase(),
                url.path()
            ),
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
