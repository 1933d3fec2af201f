//! Two-factor authentication (TAN) of the core bank API, as libeufin-bank does it and
//! the pages define it since protocol v10: an operation of an account with TAN
//! channels (`tan_channels`, `sms` or `email`) that its owner starts answers 202 with
//! a `ChallengeResponse`; `POST /accounts/$USERNAME/challenge/$CHALLENGE_ID` sends a
//! code (by the operator's `[bank] TAN_SMS` / `TAN_EMAIL` program: the address as its
//! argument, the message on standard input), `/confirm` solves the challenge with it,
//! and the client repeats the operation with the same body and the challenge's id in
//! the `Taler-Challenge-Ids` header. A solved challenge lets that operation with that
//! body through once: its body's digest is part of the challenge, and its use is
//! recorded (for transfers, in the transfer's own database transaction).

use std::time::Duration;

use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};
use sha2::{Digest, Sha256, Sha512};

use crate::{
    bank::tags::ApiTags,
    error_responses,
    http::JsonBody,
    state::State,
    store::bank::{
        self as store, Account,
        challenges::{self as cstore, NewChallenge, SendOutcome, SolveOutcome},
    },
    taler::{ApiError, ErrorCode, Timestamp, secret},
};

/// The operations a second factor protects, by libeufin-bank's names. A changed TAN
/// setting of the account itself is confirmed on the new address too
/// (`AccountReconfigNewTan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    BankTransaction,
    Withdrawal,
    AccountReconfig,
    AccountReconfigNewTan,
    AccountAuthReconfig,
    AccountDelete,
    CreateToken,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::BankTransaction => "bank_transaction",
            Op::Withdrawal => "withdrawal",
            Op::AccountReconfig => "account_reconfig",
            Op::AccountReconfigNewTan => "account_reconfig_new_tan",
            Op::AccountAuthReconfig => "account_auth_reconfig",
            Op::AccountDelete => "account_delete",
            Op::CreateToken => "create_token",
        }
    }
}

/// `TanChannel`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[oai(rename_all = "lowercase")]
pub enum TanChannel {
    Sms,
    Email,
}

impl TanChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            TanChannel::Sms => "sms",
            TanChannel::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sms" => Some(TanChannel::Sms),
            "email" => Some(TanChannel::Email),
            _ => None,
        }
    }
}

/// `Challenge`: one challenge of a `ChallengeResponse`.
#[derive(Object, Debug, Clone)]
pub struct Challenge {
    /// The challenge's id, for `/challenge/$CHALLENGE_ID` and `Taler-Challenge-Ids`.
    pub challenge_id: String,
    /// Where the code goes.
    pub tan_channel: TanChannel,
    /// The address the code goes to.
    pub tan_info: String,
}

/// `ChallengeResponse`: the operation needs a second factor.
#[derive(Object, Debug, Clone)]
pub struct ChallengeResponse {
    /// The challenges to solve before repeating the request.
    pub challenges: Vec<Challenge>,
    /// True: every challenge must be solved; false: any one of them.
    pub combi_and: bool,
}

/// `ChallengeRequestResponse`.
#[derive(Object)]
pub struct ChallengeRequestResponse {
    /// Until when the code sent now solves the challenge.
    pub solve_expiration: Timestamp,
    /// The earliest time another code may be asked for.
    pub earliest_retransmission: Timestamp,
}

/// `ChallengeSolve`.
#[derive(Object)]
pub struct ChallengeSolve {
    /// The TAN code (with or without its `T-` prefix).
    #[oai(validator(max_length = 64))]
    pub tan: String,
}

/// What a protected operation without a body answers: done, or a challenge first.
#[derive(ApiResponse)]
pub enum Protected {
    /// Done.
    #[oai(status = 204)]
    Done,
    /// A second factor is needed: solve a challenge, then repeat the request with its
    /// id in `Taler-Challenge-Ids`.
    #[oai(status = 202)]
    Challenge(Json<ChallengeResponse>),
}

/// An account's channels, as stored (comma-separated).
pub fn channels_of(account: &Account) -> Vec<TanChannel> {
    parse_channels(account.tan_channels.as_deref())
}

pub fn parse_channels(stored: Option<&str>) -> Vec<TanChannel> {
    let mut channels: Vec<TanChannel> = stored
        .unwrap_or_default()
        .split(',')
        .filter_map(|c| TanChannel::parse(c.trim()))
        .collect();
    channels.sort();
    channels.dedup();
    channels
}

pub fn store_channels(channels: &[TanChannel]) -> Option<String> {
    let mut channels = channels.to_vec();
    channels.sort();
    channels.dedup();
    (!channels.is_empty()).then(|| {
        channels
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Where each channel's code goes: the channel with its address from the contact
/// data (`ChallengeContactData` as stored), for every channel that has one.
pub fn targets(channels: &[TanChannel], contact_data: Option<&str>) -> Vec<(TanChannel, String)> {
    let contact: serde_json::Value = contact_data
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    channels
        .iter()
        .filter_map(|&c| {
            let key = match c {
                TanChannel::Sms => "phone",
                TanChannel::Email => "email",
            };
            contact
                .get(key)
                .and_then(|v| v.as_str())
                .map(|info| (c, info.to_owned()))
        })
        .collect()
}

/// The digest a challenge binds: the operation and its canonical body.
pub fn body_hash(op: Op, body: &str) -> String {
    let mut h = Sha512::new();
    h.update(op.name().as_bytes());
    h.update([0]);
    h.update(body.as_bytes());
    hex(&h.finalize())
}

/// The canonical body of a request object: its JSON as the schema writes it.
pub fn canonical<T: poem_openapi::types::ToJSON>(body: &T) -> String {
    body.to_json().map(|v| v.to_string()).unwrap_or_default()
}

fn code_hash(challenge_id: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(challenge_id.as_bytes());
    h.update([0]);
    h.update(code.as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Eight random digits, as libeufin-bank's codes.
fn new_code() -> String {
    let n = u64::from_le_bytes(secret::random_bytes::<8>()) % 100_000_000;
    format!("{n:08}")
}

/// The ids of the `Taler-Challenge-Ids` header (comma-separated; bounded).
pub fn header_ids(header: Option<&str>) -> Vec<String> {
    header
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .take(8)
        .map(str::to_owned)
        .collect()
}

/// Whether the operation may go on, and with which solved challenges to use up.
pub enum Gate {
    Open(Vec<i64>),
    Challenge(ChallengeResponse),
}

/// The second factor of an operation by the account's owner: open for the
/// administrator and for accounts without TAN channels; otherwise open with a solved
/// challenge (any channel) among `ids`, or a new challenge on every channel.
pub async fn second_factor(
    state: &State,
    account: &Account,
    admin: bool,
    op: Op,
    body_hash: &str,
    ids: &[String],
) -> Result<Gate, ApiError> {
    if admin {
        return Ok(Gate::Open(Vec::new()));
    }
    let targets = targets(&channels_of(account), account.contact_data.as_deref());
    if targets.is_empty() {
        return Ok(Gate::Open(Vec::new()));
    }
    gate(
        state,
        account.account_id,
        op,
        body_hash,
        ids,
        &targets,
        false,
    )
    .await
}

/// Open when the solved challenges among `ids` cover `targets` (every one with
/// `combi_and`, else any one); otherwise new challenges for the targets.
pub async fn gate(
    state: &State,
    account_id: i64,
    op: Op,
    body_hash: &str,
    ids: &[String],
    targets: &[(TanChannel, String)],
    combi_and: bool,
) -> Result<Gate, ApiError> {
    Ok(
        match covered(state, account_id, op, body_hash, ids, targets, combi_and).await? {
            Some(serials) => Gate::Open(serials),
            None => Gate::Challenge(
                challenge(state, account_id, op, body_hash, targets, combi_and).await?,
            ),
        },
    )
}

/// The solved challenges among `ids` that cover `targets` (every one with
/// `combi_and`, else any one), if they do.
pub async fn covered(
    state: &State,
    account_id: i64,
    op: Op,
    body_hash: &str,
    ids: &[String],
    targets: &[(TanChannel, String)],
    combi_and: bool,
) -> Result<Option<Vec<i64>>, ApiError> {
    let now = Timestamp::now().to_db();
    let solved = cstore::solved(&state.db, account_id, ids, op.name(), body_hash, now)
        .await
        .map_err(ApiError::db_fetch)?;
    let covering: Vec<Option<i64>> = targets
        .iter()
        .map(|(channel, info)| {
            solved
                .iter()
                .find(|c| c.tan_channel == channel.as_str() && c.tan_info == *info)
                .map(|c| c.challenge_serial)
        })
        .collect();
    let open = if combi_and {
        covering.iter().all(Option::is_some)
    } else {
        covering.iter().any(Option::is_some)
    };
    Ok(open.then(|| {
        let serials = covering.into_iter().flatten();
        if combi_and {
            serials.collect()
        } else {
            serials.take(1).collect()
        }
    }))
}

/// New challenges of an operation, one per target.
pub async fn challenge(
    state: &State,
    account_id: i64,
    op: Op,
    body_hash: &str,
    targets: &[(TanChannel, String)],
    combi_and: bool,
) -> Result<ChallengeResponse, ApiError> {
    let now = Timestamp::now().to_db();
    let mut challenges = Vec::new();
    for (channel, info) in targets {
        // Unguessable: the send and confirm endpoints take no credentials.
        let challenge_id = secret::random_uuid();
        cstore::create(
            &state.db,
            NewChallenge {
                challenge_id: challenge_id.clone(),
                account_id,
                op: op.name().to_owned(),
                body_hash: body_hash.to_owned(),
                // The first code is never sent: `send` draws the one that goes out.
                code_hash: code_hash(&challenge_id, &new_code()),
                tan_channel: channel.as_str().to_owned(),
                tan_info: info.clone(),
                now,
            },
        )
        .await
        .map_err(ApiError::db_store)?;
        challenges.push(Challenge {
            challenge_id,
            tan_channel: *channel,
            tan_info: info.clone(),
        });
    }
    Ok(ChallengeResponse {
        challenges,
        combi_and,
    })
}

/// The channels a request asks for: `tan_channels`, else the deprecated `tan_channel`.
pub fn requested(
    channel: Option<TanChannel>,
    channels: Option<&[TanChannel]>,
) -> Option<Vec<TanChannel>> {
    match (channels, channel) {
        (Some(list), _) => {
            let mut list = list.to_vec();
            list.sort();
            list.dedup();
            Some(list)
        }
        (None, Some(c)) => Some(vec![c]),
        (None, None) => None,
    }
}

/// Uses up the solved challenges an operation went through with (for operations that
/// move no money; transfers use theirs in their own transaction). A challenge a racing
/// request used already is 409.
pub async fn use_up(state: &State, serials: &[i64]) -> Result<(), ApiError> {
    let now = Timestamp::now().to_db();
    for &serial in serials {
        if !cstore::consume(&state.db, serial, now)
            .await
            .map_err(ApiError::db_store)?
        {
            return Err(used_already());
        }
    }
    Ok(())
}

pub fn used_already() -> ApiError {
    ApiError::new(
        ErrorCode::BankTanChallengeFailed,
        "the challenge was used already: start the operation again",
    )
}

/// A channel the bank offers (`[bank] TAN_SMS` / `TAN_EMAIL`), or 409
/// `BANK_TAN_CHANNEL_NOT_SUPPORTED`.
pub fn require_supported(state: &State, channels: &[TanChannel]) -> Result<(), ApiError> {
    match channels
        .iter()
        .find(|c| !state.config.bank_tan_channels.contains_key(c.as_str()))
    {
        Some(c) => Err(ApiError::new(
            ErrorCode::BankTanChannelNotSupported,
            format!("this bank does not offer the `{}` TAN channel", c.as_str()),
        )),
        None => Ok(()),
    }
}

/// Every channel has its address in the contact data, or 409 `BANK_MISSING_TAN_INFO`.
pub fn require_addresses(
    channels: &[TanChannel],
    contact_data: Option<&str>,
) -> Result<(), ApiError> {
    let found = targets(channels, contact_data);
    match channels
        .iter()
        .find(|c| !found.iter().any(|(f, _)| f == *c))
    {
        Some(c) => Err(ApiError::new(
            ErrorCode::BankMissingTanInfo,
            format!(
                "the contact data has no {} for the `{}` TAN channel",
                match c {
                    TanChannel::Sms => "phone number",
                    TanChannel::Email => "e-mail address",
                },
                c.as_str()
            ),
        )),
        None => Ok(()),
    }
}

/// Wrong codes for login challenges in a row that lock an account's logins (403
/// `BANK_ACCOUNT_LOCKED`) until its password changes.
pub const LOGIN_FAILURES_LOCK: i32 = 10;

/// How long a TAN program may take to deliver a code.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the channel's program: the address as its argument, the message on standard
/// input; true if it exits with 0 in time.
async fn deliver(state: &State, channel: &str, info: &str, code: &str) -> bool {
    use tokio::io::AsyncWriteExt;
    let Some(program) = state.config.bank_tan_channels.get(channel) else {
        return false;
    };
    let child = tokio::process::Command::new(program)
        .arg(info)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(channel, program = %program.display(), error = %e, "cannot start the TAN program");
            return false;
        }
    };
    let message = format!("T-{code} is your Taler Bank verification code");
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(message.as_bytes()).await?;
        }
        child.wait_with_output().await
    };
    match tokio::time::timeout(DELIVERY_TIMEOUT, run).await {
        Ok(Ok(out)) if out.status.success() => true,
        Ok(Ok(out)) => {
            // What the program said, never the code (it is not in its output).
            tracing::error!(channel, status = %out.status, stderr = %String::from_utf8_lossy(&out.stderr).chars().take(500).collect::<String>(), "the TAN program failed");
            false
        }
        Ok(Err(e)) => {
            tracing::error!(channel, error = %e, "the TAN program failed");
            false
        }
        Err(_) => {
            tracing::error!(channel, "the TAN program took longer than 10 s");
            false
        }
    }
}

#[derive(ApiResponse)]
pub enum ChallengeSent {
    /// The code was sent.
    #[oai(status = 200)]
    Ok(Json<ChallengeRequestResponse>),
}

error_responses!(SendChallengeErrors {
    400 => "A path parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "The challenge is unknown (`TALER_EC_BANK_TRANSACTION_NOT_FOUND`) or void since the account's TAN settings changed (`TALER_EC_BANK_TAN_CHALLENGE_EXPIRED`).",
    410 => "The challenge was solved already (`TALER_EC_END`).",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "A code went out less than a minute ago: wait `Retry-After` seconds (`TALER_EC_BANK_TAN_RATE_LIMITED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    502 => "The TAN program failed (`TALER_EC_BANK_TAN_CHANNEL_SCRIPT_FAILED`).",
});

error_responses!(ConfirmChallengeErrors {
    400 => "The body or a path parameter is malformed (`TALER_EC_GENERIC_JSON_INVALID`, `TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    404 => "The challenge is unknown (`TALER_EC_BANK_TRANSACTION_NOT_FOUND`) or void since the account's TAN settings changed (`TALER_EC_BANK_TAN_CHALLENGE_EXPIRED`).",
    409 => "Wrong code (`TALER_EC_BANK_TAN_CHALLENGE_FAILED`), or the code expired (`TALER_EC_BANK_TAN_CHALLENGE_EXPIRED`): ask for a new one.",
    413 => "The body exceeds the size limit (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    429 => "No attempts left for this code: ask for a new one (`TALER_EC_BANK_TAN_RATE_LIMITED`).",
    500 => "Database failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

fn unknown_challenge(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BankTransactionNotFound,
        format!("no challenge `{id}` of this account"),
    )
}

fn void_challenge() -> ApiError {
    ApiError::new(
        ErrorCode::BankTanChallengeExpired,
        "the account's TAN settings changed since: the challenge is void",
    )
}

/// The account a challenge endpoint names; an unknown one has no challenge.
async fn account_of(state: &State, username: &str, id: &str) -> Result<Account, ApiError> {
    store::find_account(&state.db, username)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| unknown_challenge(id))
}

pub struct TanApi(pub State);

#[OpenApi(tag = "ApiTags::Accounts")]
impl TanApi {
    /// Send a challenge's code
    ///
    /// A new code each time, at most once a minute; the code before it stops working.
    /// Not authenticated: the challenge id is the secret.
    #[oai(
        path = "/accounts/:USERNAME/challenge/:CHALLENGE_ID",
        method = "post",
        operation_id = "bank_post_account_challenge"
    )]
    async fn send(
        &self,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// The challenge's id.
        #[oai(name = "CHALLENGE_ID", validator(max_length = 64))]
        id: Path<String>,
    ) -> Result<ChallengeSent, SendChallengeErrors> {
        let account = account_of(&self.0, &username, &id).await?;
        let code = new_code();
        let now = Timestamp::now().to_db();
        let outcome = cstore::next_code(
            &self.0.db,
            account.account_id,
            &id,
            &code_hash(&id, &code),
            now,
        )
        .await
        .map_err(ApiError::db_store)?;
        let (challenge, expiration, retransmission) = match outcome {
            SendOutcome::Send(c, e, r) => (c, e, r),
            SendOutcome::NotFound => return Err(unknown_challenge(&id).into()),
            SendOutcome::Invalidated => return Err(void_challenge().into()),
            SendOutcome::Solved => {
                return Err(ApiError::with_status(
                    poem::http::StatusCode::GONE,
                    ErrorCode::End,
                    "the challenge was solved already",
                )
                .into());
            }
            SendOutcome::TooEarly(at) => {
                return Err(ApiError::new(
                    ErrorCode::BankTanRateLimited,
                    "a code went out less than a minute ago",
                )
                .retry_after(at.saturating_sub(now).max(1) as u64)
                .into());
            }
        };
        if !deliver(&self.0, &challenge.tan_channel, &challenge.tan_info, &code).await {
            cstore::unsent(&self.0.db, challenge.challenge_serial, retransmission)
                .await
                .map_err(ApiError::db_store)?;
            return Err(ApiError::new(
                ErrorCode::BankTanChannelScriptFailed,
                format!("the `{}` TAN program failed", challenge.tan_channel),
            )
            .into());
        }
        Ok(ChallengeSent::Ok(Json(ChallengeRequestResponse {
            solve_expiration: Timestamp::from_db(expiration),
            earliest_retransmission: Timestamp::from_db(retransmission),
        })))
    }

    /// Solve a challenge
    ///
    /// With the code sent; three attempts per code. Then repeat the operation with the
    /// same body and the challenge's id in `Taler-Challenge-Ids`. Not authenticated.
    #[oai(
        path = "/accounts/:USERNAME/challenge/:CHALLENGE_ID/confirm",
        method = "post",
        operation_id = "bank_post_account_challenge_confirm"
    )]
    async fn confirm(
        &self,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// The challenge's id.
        #[oai(name = "CHALLENGE_ID", validator(max_length = 64))]
        id: Path<String>,
        body: JsonBody<ChallengeSolve>,
    ) -> Result<crate::http::NoContent, ConfirmChallengeErrors> {
        let account = account_of(&self.0, &username, &id).await?;
        let tan = body.0.tan;
        let code = tan.strip_prefix("T-").unwrap_or(&tan).trim();
        let login = cstore::find(&self.0.db, account.account_id, &id)
            .await
            .map_err(ApiError::db_fetch)?
            .is_some_and(|c| c.op == Op::CreateToken.name());
        let outcome = cstore::solve(
            &self.0.db,
            account.account_id,
            &id,
            &code_hash(&id, code),
            Timestamp::now().to_db(),
        )
        .await
        .map_err(ApiError::db_store)?;
        // The page: too many wrong codes for login challenges lock the account.
        if login && matches!(outcome, SolveOutcome::Solved | SolveOutcome::BadCode) {
            let right = matches!(outcome, SolveOutcome::Solved);
            store::record_login_code(&self.0.db, account.account_id, right)
                .await
                .map_err(ApiError::db_store)?;
        }
        match outcome {
            SolveOutcome::Solved => Ok(crate::http::NoContent::Done),
            SolveOutcome::NotFound => Err(unknown_challenge(&id).into()),
            SolveOutcome::Invalidated => Err(void_challenge().into()),
            SolveOutcome::BadCode => {
                Err(ApiError::new(ErrorCode::BankTanChallengeFailed, "wrong TAN code").into())
            }
            SolveOutcome::Expired => Err(ApiError::with_status(
                poem::http::StatusCode::CONFLICT,
                ErrorCode::BankTanChallengeExpired,
                "the code expired: ask for a new one",
            )
            .into()),
            SolveOutcome::NoRetry => Err(ApiError::new(
                ErrorCode::BankTanRateLimited,
                "no attempts left for this code: ask for a new one",
            )
            .into()),
        }
    }
}
