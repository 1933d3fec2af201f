//! The Donau's keys: `GET /keys`, `POST /csr-issue`, and the background task that
//! generates them.
//!
//! Each calendar year has one RSA donation unit key per configured value
//! (`[donau] DONATION_UNIT_VALUES`) and one EdDSA signing key, valid from 1 January
//! to 1 January. The task makes the current year's and the next year's keys at
//! start-up and looks again every hour, so a new year's keys exist before it begins.
//! Private keys rest only in the database and are never logged.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use poem::Request;
use poem_openapi::{ApiResponse, Object, OpenApi, Union, payload::Json};

use crate::{
    donau::{tags::ApiTags, unverified},
    error_responses,
    http::{JsonBody, public::PublicBase},
    state::State,
    store::donau_keys::{self, DonationUnit as UnitRow, NewDonationUnit},
    taler::{
        Amount, ApiError, EddsaPublicKey, ErrorCode, Timestamp,
        keys::{self, HashCode, Nonce32},
        rsa,
        time::{current_year, new_year},
    },
};

/// The Donau's protocol version (`current:revision:age`), as `/config` says it.
pub const VERSION: &str = "0:0:0";

/// `DonauKeysResponse`.
#[derive(Object)]
pub struct DonauKeysResponse {
    /// libtool-style protocol version, "current:revision:age".
    pub version: String,
    /// The financial or legal authority the Donau's statements are for (`[donau]
    /// LEGAL_DOMAIN`).
    pub legal_domain: String,
    /// The Donau's public base URL.
    pub base_url: String,
    /// Currency of the receipts.
    pub currency: String,
    /// The donation unit keys of every year, by year and value.
    pub donation_units: Vec<DonationUnitInfo>,
    /// The online signing keys of donation statements.
    pub signkeys: Vec<SignKey>,
}

/// `DonationUnit`: a key that signs receipts of one value for one year.
#[derive(Object)]
#[oai(rename = "DonationUnit")]
pub struct DonationUnitInfo {
    /// The calendar year this key issues receipts for.
    pub year: i32,
    /// Present and true when the private key is lost: no new receipts, old ones stay
    /// valid.
    #[oai(skip_serializing_if_is_none)]
    pub lost: Option<bool>,
    /// The worth of one receipt.
    pub value: Amount,
    pub donation_unit_pub: DonationUnitKey,
}

/// `DonationUnitKey`, by `cipher` (Clause-Schnorr keys may follow).
#[derive(Union)]
#[oai(discriminator_name = "cipher")]
pub enum DonationUnitKey {
    #[oai(mapping = "RSA")]
    Rsa(RsaDonationUnitKey),
}

/// An RSA donation unit key.
#[derive(Object)]
pub struct RsaDonationUnitKey {
    /// GNUnet's encoding of the key (`u16 modulus length ‖ u16 exponent length ‖
    /// modulus ‖ exponent`), in Crockford base32.
    pub rsa_public_key: String,
    /// The key's hash, as requests name it (`h_donation_unit_pub`, `du_pub_hash`).
    pub pub_key_hash: HashCode,
}

/// `SignKey`: an online signing key and when it signs.
#[derive(Object)]
pub struct SignKey {
    pub key: EddsaPublicKey,
    pub stamp_start: Timestamp,
    pub stamp_expire: Timestamp,
}

/// `IssuePrepareRequest`.
#[derive(Object)]
pub struct IssuePrepareRequest {
    /// Fresh nonce of the donor's wallet.
    pub nonce: Nonce32,
    /// The Clause-Schnorr donation unit key asked about.
    pub du_pub_hash: HashCode,
}

#[derive(ApiResponse)]
pub enum KeysAnswer {
    /// The keys.
    #[oai(status = 200)]
    Ok(
        Json<DonauKeysResponse>,
        /// Clients may keep the answer this long; new keys appear long before use.
        #[oai(header = "Cache-Control")]
        String,
    ),
}

error_responses!(KeysErrors {
    503 => "The Donau has no keys yet: they are being generated, or `[donau] DONATION_UNIT_VALUES` is `NONE` (`TALER_EC_DONAU_GENERIC_KEYS_MISSING`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

/// `DonauIssueValue`: the R values of a Clause-Schnorr key.
#[derive(Union)]
#[oai(discriminator_name = "cipher")]
pub enum DonauIssueValue {
    #[oai(mapping = "CS")]
    Cs(CsIssueValue),
}

/// The two R values (Curve25519 points) a Clause-Schnorr key derives for a nonce.
#[derive(Object)]
pub struct CsIssueValue {
    pub r_pub_0: String,
    pub r_pub_1: String,
}

#[derive(ApiResponse)]
pub enum CsrIssueAnswer {
    /// The R values, for a Clause-Schnorr key (this Donau has RSA keys only so far).
    #[oai(status = 201)]
    Created(Json<DonauIssueValue>),
}

error_responses!(CsrIssueErrors {
    400 => "The body is malformed, or the key is an RSA key, which needs no R values (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_DONAU_GENERIC_INVALID_DENOMINATION_CIPHER_FOR_OPERATION`).",
    404 => "No donation unit key has this hash (`TALER_EC_DONAU_GENERIC_DONATION_UNIT_UNKNOWN`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

pub struct KeysApi(pub State);

#[OpenApi(tag = "ApiTags::Keys")]
impl KeysApi {
    /// The Donau's keys
    ///
    /// The donation unit keys of every year and the online signing keys. 503 until
    /// the first keys exist.
    #[oai(path = "/keys", method = "get", operation_id = "donau_get_keys")]
    async fn get_keys(&self, req: &Request) -> Result<KeysAnswer, KeysErrors> {
        let db = &self.0.db;
        let units = donau_keys::donation_units(db)
            .await
            .map_err(ApiError::db_fetch)?;
        let signkeys = donau_keys::signkeys(db).await.map_err(ApiError::db_fetch)?;
        if units.is_empty() || signkeys.is_empty() {
            return Err(keys_missing().into());
        }
        let config = &self.0.config;
        let response = DonauKeysResponse {
            version: VERSION.to_owned(),
            legal_domain: config.donau_keys.legal_domain.clone(),
            base_url: PublicBase::of(req, config, &config.donau_base).url(),
            currency: config.currency.clone(),
            donation_units: units.iter().map(unit_info).collect::<Result<_, _>>()?,
            signkeys: signkeys
                .iter()
                .map(|k| {
                    Ok(SignKey {
                        key: k.public_key.parse().map_err(|_| stored_key_invalid())?,
                        stamp_start: Timestamp::from_db(k.stamp_start),
                        stamp_expire: Timestamp::from_db(k.stamp_expire),
                    })
                })
                .collect::<Result<_, ApiError>>()?,
        };
        Ok(KeysAnswer::Ok(
            Json(response),
            "public, max-age=3600".to_owned(),
        ))
    }

    /// Clause-Schnorr R values
    ///
    /// For Clause-Schnorr donation unit keys only; this Donau's keys are RSA, so a
    /// known key is answered 400.
    #[oai(
        path = "/csr-issue",
        method = "post",
        operation_id = "donau_post_csr_issue"
    )]
    async fn csr_issue(
        &self,
        body: JsonBody<IssuePrepareRequest>,
    ) -> Result<CsrIssueAnswer, CsrIssueErrors> {
        let hash = body.0.du_pub_hash.to_string();
        let found = donau_keys::donation_units_by_hash(&self.0.db, std::slice::from_ref(&hash))
            .await
            .map_err(ApiError::db_fetch)?;
        match found.first() {
            None => Err(unit_unknown(&hash).into()),
            Some(_) => Err(ApiError::new(
                ErrorCode::DonauGenericInvalidDenominationCipherForOperation,
                "the donation unit key is an RSA key: RSA needs no R values",
            )
            .parameter("du_pub_hash")
            .into()),
        }
    }
}

pub fn keys_missing() -> ApiError {
    ApiError::new(
        ErrorCode::DonauGenericKeysMissing,
        "the Donau has no keys yet",
    )
}

pub fn unit_unknown(hash: &str) -> ApiError {
    let short: String = hash.chars().take(12).collect();
    ApiError::new(
        ErrorCode::DonauGenericDonationUnitUnknown,
        format!("no donation unit key has the hash {short}…"),
    )
}

fn stored_key_invalid() -> ApiError {
    ApiError::db_fetch("a stored Donau key is invalid")
}

fn unit_info(row: &UnitRow) -> Result<DonationUnitInfo, ApiError> {
    Ok(DonationUnitInfo {
        year: row.year,
        lost: row.lost.then_some(true),
        value: row.value.parse().map_err(|_| stored_key_invalid())?,
        donation_unit_pub: DonationUnitKey::Rsa(RsaDonationUnitKey {
            rsa_public_key: row.public_key.clone(),
            pub_key_hash: row.pub_key_hash.parse().map_err(|_| stored_key_invalid())?,
        }),
    })
}

/// Makes the keys of the current and the next year that are missing.
pub async fn ensure(state: &State) -> Result<(), String> {
    // `DONATION_UNIT_VALUES = NONE`: a server that runs no Donau makes no keys at all.
    if state.config.donau_keys.values.is_empty() {
        return Ok(());
    }
    let db = &state.db;
    let now = current_year();
    for year in [now, now + 1] {
        if donau_keys::signkey_of(db, year)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
            let public = EddsaPublicKey(SigningKey::from_bytes(&seed).verifying_key().to_bytes());
            donau_keys::add_signkey(
                db,
                year,
                public.to_string(),
                seed.to_vec(),
                new_year(year),
                new_year(year + 1),
            )
            .await
            .map_err(|e| e.to_string())?;
        }
        let have: Vec<String> = donau_keys::donation_units_of(db, year)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|u| u.value)
            .collect();
        for value in &state.config.donau_keys.values {
            if have.contains(&value.to_string()) {
                continue;
            }
            let bits = state.config.donau_keys.key_bits;
            let new = tokio::task::spawn_blocking(move || rsa::PrivateKey::generate(bits))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let encoded = new.public().encode();
            donau_keys::add_donation_unit(
                db,
                NewDonationUnit {
                    pub_key_hash: keys::encode(&unverified::rsa_pub_key_hash(&encoded)),
                    year,
                    value: value.to_string(),
                    cipher: "RSA".to_owned(),
                    public_key: keys::encode(&encoded),
                    private_key: new.to_der().map_err(|e| e.to_string())?,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            tracing::info!(year, value = %value, "generated a donation unit key");
        }
    }
    Ok(())
}

/// Keeps the keys made: now, then every hour (every minute after a failure).
pub fn spawn(state: State) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let wait = match ensure(&state).await {
                Ok(()) => Duration::from_secs(3600),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot make the Donau's keys");
                    Duration::from_secs(60)
                }
            };
            tokio::time::sleep(wait).await;
        }
    })
}
