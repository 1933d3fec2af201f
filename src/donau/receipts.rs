//! Donation receipts: `POST /batch-issue/$CHARITY_ID` (a charity has blinded
//! receipts signed), `POST /batch-submit` (a donor hands in unblinded receipts),
//! `GET /donation-statement/$YEAR/$HASH_DONOR_ID` (the donor's signed yearly total)
//! and `GET /history` (what charities issued in past years, administrator).

use std::collections::{BTreeMap, HashSet};

use ed25519_dalek::SigningKey;
use poem_openapi::{ApiResponse, Object, OpenApi, Union, param::Path, payload::Json};

use crate::{
    donau::{
        charities::DonauAdminToken,
        keys::{keys_missing, unit_unknown},
        signatures,
        tags::ApiTags,
        unverified,
    },
    error_responses,
    http::JsonBody,
    state::State,
    store::{
        charities as charity_store,
        donation_receipts::{
            self as store, IssueOutcome, IssuedBatch, NewBatch, NewReceipt, amount_of_units,
            units_of,
        },
        donau_keys::{self, DonationUnit},
    },
    taler::{
        Amount, ApiError, EddsaPublicKey, ErrorCode,
        keys::{self, EddsaSignature, HashCode, Nonce32, RsaBytes},
        rsa,
        time::current_year,
    },
};

/// Most pairs in one batch, and receipts in one submission: each is an RSA operation.
pub const MAX_BATCH: usize = 1024;

/// Most rows `GET /history` answers (charities × past years).
pub const MAX_HISTORY: u64 = 10_000;

/// `IssueReceiptsRequest`.
#[derive(Object)]
pub struct IssueReceiptsRequest {
    /// The charity's EdDSA signature approving this batch.
    pub charity_sig: EddsaSignature,
    /// The year of the receipts; every key named must be of this year.
    #[oai(validator(minimum(value = "0"), maximum(value = "9999")))]
    pub year: i32,
    /// The blinded receipts and the keys to sign them with.
    #[oai(validator(min_items = 1, max_items = 1024))]
    pub budikeypairs: Vec<BlindedDonationReceiptKeyPair>,
}

/// `BlindedDonationReceiptKeyPair`.
#[derive(Object)]
pub struct BlindedDonationReceiptKeyPair {
    /// `pub_key_hash` of the donation unit key that is to sign.
    pub h_donation_unit_pub: HashCode,
    pub blinded_udi: BlindedUniqueDonationIdentifier,
}

/// `BlindedUniqueDonationIdentifier`, by `cipher`.
#[derive(Union)]
#[oai(discriminator_name = "cipher")]
pub enum BlindedUniqueDonationIdentifier {
    #[oai(mapping = "RSA")]
    Rsa(RsaBudi),
}

/// A blinded unique donation identifier for an RSA key.
#[derive(Object)]
pub struct RsaBudi {
    /// The blinded message (`FDH(h_udi) · r^e mod n`), big-endian.
    pub rsa_blinded_identifier: RsaBytes,
}

/// `BlindedDonationReceiptSignaturesResponse`.
#[derive(Object)]
pub struct BlindedDonationReceiptSignaturesResponse {
    /// The blind signatures, in the order of `budikeypairs`.
    pub blind_signatures: Vec<BlindedDonationReceiptSignature>,
    /// What the batch is worth: the sum of its keys' values.
    pub issued_amount: Amount,
}

/// `BlindedDonationReceiptSignature`, by `cipher`.
#[derive(Union)]
#[oai(discriminator_name = "cipher")]
pub enum BlindedDonationReceiptSignature {
    #[oai(mapping = "RSA")]
    Rsa(RsaBlindSignature),
}

/// An RSA blind signature.
#[derive(Object)]
pub struct RsaBlindSignature {
    pub blinded_rsa_signature: RsaBytes,
}

/// `SubmitDonationReceiptsRequest`.
#[derive(Object)]
pub struct SubmitDonationReceiptsRequest {
    /// The donor's identifier hash; the Donau never sees the tax id.
    pub h_donor_tax_id: HashCode,
    /// The year of every receipt.
    #[oai(validator(minimum(value = "0"), maximum(value = "9999")))]
    pub donation_year: i32,
    #[oai(validator(min_items = 1, max_items = 1024))]
    pub donation_receipts: Vec<DonationReceipt>,
}

/// `DonationReceipt`.
#[derive(Object)]
pub struct DonationReceipt {
    pub h_donation_unit_pub: HashCode,
    /// The donor's nonce of this receipt.
    pub nonce: Nonce32,
    pub donation_unit_sig: DonationUnitSignature,
}

/// `DonationUnitSignature`, by `cipher`.
#[derive(Union)]
#[oai(discriminator_name = "cipher")]
pub enum DonationUnitSignature {
    #[oai(mapping = "RSA")]
    Rsa(RsaUnitSignature),
}

/// An unblinded RSA signature of a receipt.
#[derive(Object)]
pub struct RsaUnitSignature {
    pub rsa_signature: RsaBytes,
}

/// `DonationStatementResponse`.
#[derive(Object)]
pub struct DonationStatementResponse {
    /// The donor's total of the year.
    pub total: Amount,
    /// EdDSA signature (purpose 1500) over the total, the donor hash and the year.
    pub donation_statement_sig: EddsaSignature,
    /// The signing key used; one of `/keys`' `signkeys`.
    pub donau_pub: EddsaPublicKey,
}

/// `HistoryResponse`.
#[derive(Object)]
pub struct HistoryResponse {
    pub history: Vec<CharityYearSummary>,
}

/// `CharityYearSummary`.
#[derive(Object)]
pub struct CharityYearSummary {
    pub charity_id: u64,
    /// What the charity issued in that year.
    pub final_amount: Amount,
    pub donation_year: i32,
}

#[derive(ApiResponse)]
pub enum IssueAnswer {
    /// The blind signatures (also for a batch signed before: the same signatures,
    /// charged once).
    #[oai(status = 200)]
    Ok(Json<BlindedDonationReceiptSignaturesResponse>),
}

error_responses!(IssueErrors {
    400 => "The charity id or body is malformed, a blinded identifier is not below its key's modulus, or the batch would exceed the charity's yearly limit (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_DONAU_EXCEEDING_DONATION_LIMIT`).",
    403 => "`charity_sig` is not the charity's signature of this batch (`TALER_EC_DONAU_CHARITY_SIGNATURE_INVALID`).",
    404 => "The charity or a donation unit key is unknown (`TALER_EC_DONAU_CHARITY_NOT_FOUND`, `TALER_EC_DONAU_GENERIC_DONATION_UNIT_UNKNOWN`).",
    409 => "`year` is not the year of a key named (`TALER_EC_DONAU_GENERIC_DONATION_UNIT_WRONG_YEAR`).",
    410 => "The year has passed: receipts are issued for the current year only (`TALER_EC_DONAU_GENERIC_DONATION_UNIT_EXPIRED`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    425 => "The year has not begun yet (`TALER_EC_DONAU_GENERIC_DONATION_UNIT_TOO_EARLY`).",
    500 => "Database or signing failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`, `TALER_EC_GENERIC_INTERNAL_INVARIANT_FAILURE`).",
});

#[derive(ApiResponse)]
pub enum SubmitAnswer {
    /// The receipts are counted; the donation statement of the year is available.
    #[oai(status = 201)]
    Created,
}

error_responses!(SubmitErrors {
    400 => "The body is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    403 => "A receipt's signature does not verify (`TALER_EC_DONAU_DONATION_RECEIPT_SIGNATURE_INVALID`).",
    404 => "A receipt names an unknown donation unit key (`TALER_EC_DONAU_GENERIC_DONATION_UNIT_UNKNOWN`).",
    409 => "Two receipts of the submission have the same nonce, or a receipt's key is of another year than `donation_year` (`TALER_EC_DONAU_DONOR_IDENTIFIER_NONCE_REUSE`, `TALER_EC_DONAU_GENERIC_DONATION_UNIT_WRONG_YEAR`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

#[derive(ApiResponse)]
pub enum StatementAnswer {
    /// The donor's signed total of the year.
    #[oai(status = 200)]
    Ok(Json<DonationStatementResponse>),
}

error_responses!(StatementErrors {
    400 => "The year or the donor hash is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "No receipt of this donor and year was submitted (`TALER_EC_GENERIC_ENDPOINT_UNKNOWN`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    503 => "The Donau has no signing key for the current year yet (`TALER_EC_DONAU_GENERIC_KEYS_MISSING`).",
});

#[derive(ApiResponse)]
pub enum HistoryAnswer {
    /// The charities' past years, by charity and year.
    #[oai(status = 200)]
    Ok(Json<HistoryResponse>),
    /// No year has ended for any charity yet.
    #[oai(status = 204)]
    Empty,
}

error_responses!(HistoryErrors {
    403 => "The administrator bearer token is missing or wrong (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

pub struct ReceiptsApi(pub State);

/// The keys named by hash (Crockford base32), each once; 404 for an unknown one.
async fn units_named(
    state: &State,
    hashes: impl Iterator<Item = String>,
) -> Result<BTreeMap<String, DonationUnit>, ApiError> {
    let wanted: Vec<String> = hashes.collect::<HashSet<_>>().into_iter().collect();
    let found: BTreeMap<String, DonationUnit> =
        donau_keys::donation_units_by_hash(&state.db, &wanted)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|u| (u.pub_key_hash.clone(), u))
            .collect();
    match wanted.iter().find(|h| !found.contains_key(*h)) {
        Some(missing) => Err(unit_unknown(missing)),
        None => Ok(found),
    }
}

fn wrong_year(key_year: i32, year: i32) -> ApiError {
    ApiError::new(
        ErrorCode::DonauGenericDonationUnitWrongYear,
        format!("a donation unit key is of {key_year}, not of {year}"),
    )
}

/// Issuing is for the current year only: 410 for a past one, 425 for a future one.
fn issuing_year(year: i32, now: i32) -> Result<(), ApiError> {
    match year.cmp(&now) {
        std::cmp::Ordering::Less => Err(ApiError::new(
            ErrorCode::DonauGenericDonationUnitExpired,
            format!("{year} has passed: receipts are issued for {now} only"),
        )),
        std::cmp::Ordering::Greater => Err(ApiError::new(
            ErrorCode::DonauGenericDonationUnitTooEarly,
            format!("{year} has not begun: receipts are issued for {now} only"),
        )),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn answer(batch: IssuedBatch) -> Result<IssueAnswer, ApiError> {
    let blind_signatures = batch
        .signatures
        .iter()
        .map(|s| {
            Ok(BlindedDonationReceiptSignature::Rsa(RsaBlindSignature {
                blinded_rsa_signature: s
                    .parse()
                    .map_err(|_| ApiError::db_fetch("a stored signature is invalid"))?,
            }))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(IssueAnswer::Ok(Json(
        BlindedDonationReceiptSignaturesResponse {
            blind_signatures,
            issued_amount: batch.amount,
        },
    )))
}

fn stored(e: impl std::fmt::Display) -> ApiError {
    ApiError::db_fetch(format!("a stored Donau key is invalid: {e}"))
}

/// Signs every blinded message with its key (each key parsed once).
fn sign_all(
    pairs: &[(String, Vec<u8>)],
    units: &BTreeMap<String, DonationUnit>,
) -> Result<Vec<String>, ApiError> {
    let mut private: BTreeMap<&str, rsa::PrivateKey> = BTreeMap::new();
    let mut out = Vec::with_capacity(pairs.len());
    for (i, (hash, blinded)) in pairs.iter().enumerate() {
        if !private.contains_key(hash.as_str()) {
            let key = rsa::PrivateKey::from_der(&units[hash].private_key).map_err(stored)?;
            private.insert(hash, key);
        }
        let signature = private[hash.as_str()].sign_blinded(blinded).map_err(|e| {
            ApiError::malformed(
                &format!("budikeypairs[{i}].blinded_udi.rsa_blinded_identifier"),
                e.to_string(),
            )
        })?;
        out.push(keys::encode(&signature));
    }
    Ok(out)
}

#[OpenApi(tag = "ApiTags::Receipts")]
impl ReceiptsApi {
    /// Sign a charity's blinded receipts
    ///
    /// The charity approves the batch with `charity_sig`; its value is charged to the
    /// charity's `receipts_to_date` of `year`, which must stay within `max_per_year`
    /// (nothing is signed otherwise). The same batch again is answered with the same
    /// signatures and charged once.
    #[oai(
        path = "/batch-issue/:charity_id",
        method = "post",
        operation_id = "donau_post_batch_issue"
    )]
    async fn batch_issue(
        &self,
        /// The charity's id.
        charity_id: Path<u64>,
        body: JsonBody<IssueReceiptsRequest>,
    ) -> Result<IssueAnswer, IssueErrors> {
        let req = body.0;
        let not_found = || {
            ApiError::new(
                ErrorCode::DonauCharityNotFound,
                format!("charity {} is unknown", charity_id.0),
            )
        };
        let id = i64::try_from(charity_id.0).map_err(|_| not_found())?;
        let charity = charity_store::find(&self.0.db, id)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(not_found)?;
        let pairs: Vec<(String, Vec<u8>)> = req
            .budikeypairs
            .into_iter()
            .map(|p| {
                let BlindedUniqueDonationIdentifier::Rsa(budi) = p.blinded_udi;
                (
                    p.h_donation_unit_pub.to_string(),
                    budi.rsa_blinded_identifier.0,
                )
            })
            .collect();
        let units = units_named(&self.0, pairs.iter().map(|(h, _)| h.clone())).await?;
        if let Some(unit) = units.values().find(|u| u.year != req.year) {
            return Err(wrong_year(unit.year, req.year).into());
        }
        issuing_year(req.year, current_year())?;
        if let Some(unit) = units.values().find(|u| u.lost) {
            return Err(unit_unknown(&unit.pub_key_hash).into());
        }
        let hashes: Vec<[u8; 64]> = pairs
            .iter()
            .map(|(h, _)| h.parse::<HashCode>().map(|h| h.0))
            .collect::<Result<_, _>>()
            .map_err(|_| ApiError::db_fetch("a stored key hash is invalid"))?;
        let batch_hash = unverified::batch_hash(
            hashes
                .iter()
                .zip(&pairs)
                .map(|(h, (_, blinded))| (h, blinded.as_slice())),
        );
        let charity_pub: EddsaPublicKey = charity
            .charity_pub
            .parse()
            .map_err(|_| ApiError::db_fetch("a stored charity key is invalid"))?;
        if !unverified::charity_signed(
            &charity_pub.0,
            pairs.len() as u32,
            &batch_hash,
            &req.charity_sig.0,
        ) {
            return Err(ApiError::new(
                ErrorCode::DonauCharitySignatureInvalid,
                "charity_sig is not the charity's signature of this batch",
            )
            .parameter("charity_sig")
            .into());
        }
        let batch_hash = keys::encode(&batch_hash);
        if let Some(batch) = store::find_batch(&self.0.db, id, &batch_hash)
            .await
            .map_err(ApiError::db_fetch)?
        {
            return Ok(answer(batch)?);
        }
        let mut amount = Amount::zero(&self.0.config.currency).map_err(ApiError::db_fetch)?;
        for (hash, _) in &pairs {
            let value: Amount = units[hash].value.parse().map_err(stored)?;
            amount = amount
                .checked_add(&value)
                .ok_or_else(|| exceeded(&charity.max_per_year))?;
        }
        // Refused before any signing when the budget is plainly short; the store
        // checks again, authoritatively, in the transaction that charges it.
        let receipts =
            charity_store::receipts_in(&charity, req.year).map_err(ApiError::db_fetch)?;
        let max: Amount = charity.max_per_year.parse().map_err(stored)?;
        if receipts
            .checked_add(&amount)
            .is_none_or(|t| t.cmp_same_currency(&max) == Some(std::cmp::Ordering::Greater))
        {
            return Err(exceeded(&charity.max_per_year).into());
        }
        let signatures = tokio::task::spawn_blocking(move || sign_all(&pairs, &units))
            .await
            .map_err(stopped)??;
        let outcome = store::issue(
            &self.0.db,
            NewBatch {
                charity_id: id,
                batch_hash,
                year: req.year,
                amount,
                signatures,
            },
        )
        .await
        .map_err(ApiError::db_store)?;
        match outcome {
            IssueOutcome::Issued(batch) => Ok(answer(batch)?),
            IssueOutcome::CharityUnknown => Err(not_found().into()),
            IssueOutcome::Exceeded { max, .. } => Err(exceeded(&max.to_string()).into()),
            // Another server's clock had the new year first.
            IssueOutcome::YearPassed => Err(ApiError::new(
                ErrorCode::DonauGenericDonationUnitExpired,
                format!("{} has passed", req.year),
            )
            .into()),
        }
    }

    /// Submit donation receipts
    ///
    /// The donor's unblinded receipts of one year. Each is verified against its key
    /// and counted once, however often it is submitted; the year's total per donor
    /// identifier is then available as a donation statement.
    #[oai(
        path = "/batch-submit",
        method = "post",
        operation_id = "donau_post_batch_submit"
    )]
    async fn batch_submit(
        &self,
        body: JsonBody<SubmitDonationReceiptsRequest>,
    ) -> Result<SubmitAnswer, SubmitErrors> {
        let req = body.0;
        let mut nonces = HashSet::new();
        if let Some(i) = req
            .donation_receipts
            .iter()
            .position(|r| !nonces.insert(r.nonce))
        {
            return Err(ApiError::new(
                ErrorCode::DonauDonorIdentifierNonceReuse,
                format!("donation_receipts[{i}] repeats the nonce of an earlier receipt"),
            )
            .into());
        }
        let units = units_named(
            &self.0,
            req.donation_receipts
                .iter()
                .map(|r| r.h_donation_unit_pub.to_string()),
        )
        .await?;
        if let Some(unit) = units.values().find(|u| u.year != req.donation_year) {
            return Err(wrong_year(unit.year, req.donation_year).into());
        }
        let donor = req.h_donor_tax_id;
        let receipts = req.donation_receipts;
        let verified = tokio::task::spawn_blocking(move || verify_all(&donor, &receipts, &units))
            .await
            .map_err(stopped)??;
        store::submit(&self.0.db, &donor.to_string(), req.donation_year, verified)
            .await
            .map_err(ApiError::db_store)?;
        Ok(SubmitAnswer::Created)
    }

    /// A donor's donation statement
    ///
    /// The total of the donor's receipts of `year`, signed with the Donau's current
    /// signing key over purpose 1500 (what the Donau verifier app checks).
    #[oai(
        path = "/donation-statement/:year/:hash_donor_id",
        method = "get",
        operation_id = "donau_get_donation_statement"
    )]
    async fn donation_statement(
        &self,
        /// The year of the donations.
        #[oai(validator(maximum(value = "9999")))]
        year: Path<u32>,
        /// The donor's identifier hash (`h_donor_tax_id`).
        hash_donor_id: Path<HashCode>,
    ) -> Result<StatementAnswer, StatementErrors> {
        let db = &self.0.db;
        let year = year.0 as i32;
        let donor = hash_donor_id.0;
        let Some(units) = store::statement(db, &donor.to_string(), year)
            .await
            .map_err(ApiError::db_fetch)?
        else {
            return Err(ApiError::new(
                ErrorCode::GenericEndpointUnknown,
                format!("no receipt of {year} was submitted for this donor"),
            )
            .into());
        };
        let signkey = donau_keys::signkey_of(db, current_year())
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(keys_missing)?;
        let seed: [u8; 32] = signkey
            .private_key
            .as_slice()
            .try_into()
            .map_err(|_| stored("signing key"))?;
        let key = SigningKey::from_bytes(&seed);
        let total = amount_of_units(&self.0.config.currency, units).map_err(ApiError::db_fetch)?;
        let sig = signatures::sign_statement(&key, &total, &donor.0, year as u32);
        Ok(StatementAnswer::Ok(Json(DonationStatementResponse {
            total,
            donation_statement_sig: EddsaSignature(sig),
            donau_pub: EddsaPublicKey(key.verifying_key().to_bytes()),
        })))
    }

    /// Charities' past years
    ///
    /// Administrator only. What each charity issued in each year that has ended for it
    /// (written when its first batch of a new year arrives, or its record changes in a
    /// new year); at most 10,000 rows, by charity and year.
    #[oai(path = "/history", method = "get", operation_id = "donau_get_history")]
    async fn history(&self, token: DonauAdminToken) -> Result<HistoryAnswer, HistoryErrors> {
        crate::donau::charities::require_admin(&self.0, &token)?;
        let rows = store::history(&self.0.db, MAX_HISTORY)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(HistoryAnswer::Empty);
        }
        let history = rows
            .into_iter()
            .map(|r| {
                Ok(CharityYearSummary {
                    charity_id: r.charity_id as u64,
                    final_amount: r.final_amount.parse().map_err(stored)?,
                    donation_year: r.donation_year,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(HistoryAnswer::Ok(Json(HistoryResponse { history })))
    }
}

/// A blocking crypto task that panicked or was cancelled.
fn stopped(err: tokio::task::JoinError) -> ApiError {
    tracing::error!(error = %err, "a Donau signing task stopped");
    ApiError::new(
        ErrorCode::GenericInternalInvariantFailure,
        "the signing task stopped",
    )
}

fn exceeded(max: &str) -> ApiError {
    ApiError::new(
        ErrorCode::DonauExceedingDonationLimit,
        format!("the batch would take the charity's receipts of the year beyond {max}"),
    )
}

/// Verifies every receipt against its key over `h_udi`; the receipts to record.
fn verify_all(
    donor: &HashCode,
    receipts: &[DonationReceipt],
    units: &BTreeMap<String, DonationUnit>,
) -> Result<Vec<NewReceipt>, ApiError> {
    let mut public: BTreeMap<&str, rsa::PublicKey> = BTreeMap::new();
    let mut out = Vec::with_capacity(receipts.len());
    for (i, receipt) in receipts.iter().enumerate() {
        let hash = receipt.h_donation_unit_pub.to_string();
        let unit = &units[&hash];
        if !public.contains_key(hash.as_str()) {
            let encoded = keys::decode(&unit.public_key, unit.public_key.len() * 5 / 8)
                .ok_or_else(|| stored("public key"))?;
            public.insert(
                unit.pub_key_hash.as_str(),
                rsa::PublicKey::decode(&encoded).map_err(stored)?,
            );
        }
        let h_udi = unverified::h_udi(&donor.0, &receipt.nonce.0);
        let DonationUnitSignature::Rsa(sig) = &receipt.donation_unit_sig;
        if !public[unit.pub_key_hash.as_str()].verify(&h_udi, &sig.rsa_signature.0) {
            return Err(ApiError::new(
                ErrorCode::DonauDonationReceiptSignatureInvalid,
                format!("the signature of donation_receipts[{i}] does not verify"),
            ));
        }
        let value: Amount = unit.value.parse().map_err(stored)?;
        out.push(NewReceipt {
            pub_key_hash: hash,
            h_udi: keys::encode(&h_udi),
            value_units: units_of(&value).ok_or_else(|| stored("value"))?,
        });
    }
    Ok(out)
}
