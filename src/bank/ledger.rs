//! The bank's ledger: its own `admin` account, where money comes from and fees go,
//! amounts as integers of 10^-8 units, the registration bonus, what an incoming
//! transfer's subject means to an exchange, and the one door every transfer goes
//! through (`new_transfer` checks it, `book` books it).

use crate::{
    bank::payto::x_taler_bank_key,
    state::State,
    store::bank::{self as store, Account, NewTransfer, TalerMetadata, TransferOutcome},
    taler::{Amount, ApiError, ErrorCode, Timestamp, amount::require_currency, keys},
};

/// The bank's own account: the source of registration bonuses and the receiver of
/// fees, so that all balances always sum to zero.
pub const ADMIN_ACCOUNT: &str = "admin";

/// An amount in units of 10^-8.
pub fn units(amount: &crate::taler::Amount) -> i128 {
    i128::from(amount.value()) * 100_000_000 + i128::from(amount.fraction())
}

/// A magnitude in units of 10^-8 as an amount (saturating at Taler's maximum).
pub fn amount_of(currency: &str, units: i128) -> crate::taler::Amount {
    let m = units.unsigned_abs();
    let value = u64::try_from(m / 100_000_000)
        .unwrap_or(u64::MAX)
        .min(crate::taler::amount::MAX_VALUE);
    crate::taler::Amount::new(currency, value, (m % 100_000_000) as u32)
        .expect("the configured currency, within limits")
}

/// Creates the administrator's account if it does not exist, and returns its id. Its
/// debit threshold is Taler's largest amount: it is where money comes from.
pub async fn ensure_admin_account(
    db: &sea_orm::DatabaseConnection,
    wire: &crate::config::BankWire,
) -> Result<i64, sea_orm::DbErr> {
    if let Some(admin) = crate::store::bank::find_account(db, ADMIN_ACCOUNT).await? {
        return Ok(admin.account_id);
    }
    let max = i128::from(crate::taler::amount::MAX_VALUE) * 100_000_000;
    // A password nobody knows until `taler-openapi passwd admin` sets one; until then
    // the administrator acts with the administrator token.
    let password_hash =
        crate::taler::secret::hash_password(&crate::taler::secret::generate_token());
    crate::store::bank::create_account(
        db,
        crate::store::bank::NewAccount {
            username: ADMIN_ACCOUNT.to_owned(),
            password_hash,
            name: "Bank administrator".to_owned(),
            payto_key: match wire {
                crate::config::BankWire::XTalerBank { .. } => x_taler_bank_key(ADMIN_ACCOUNT),
                crate::config::BankWire::Iban { .. } => {
                    crate::bank::payto::iban_key(&crate::bank::payto::random_iban())
                }
            },
            is_public: false,
            is_taler_exchange: false,
            debit_threshold: max,
            contact_data: None,
            tan_channels: None,
        },
    )
    .await?;
    crate::store::bank::find_account(db, ADMIN_ACCOUNT)
        .await?
        .map(|a| a.account_id)
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(ADMIN_ACCOUNT.to_owned()))
}

/// Pays a new account's registration bonus from the administrator's account. When
/// the administrator's account cannot afford it, the new account is removed again
/// and the registration is 409 `BANK_UNALLOWED_DEBIT`, as in libeufin-bank (where
/// both happen in one database transaction).
pub async fn registration_bonus(
    state: &State,
    username: &str,
    bonus: &crate::taler::Amount,
) -> Result<(), crate::taler::ApiError> {
    use crate::{store::bank as store, taler::ApiError};
    let account = store::find_account(&state.db, username)
        .await
        .map_err(ApiError::db_fetch)?
        .ok_or_else(|| ApiError::db_fetch("the new account vanished"))?;
    let channel = state.incoming.channel();
    let outcome = store::transfer(
        &state.db,
        channel,
        store::NewTransfer {
            debtor: state.bank_admin_account,
            creditor: account.account_id,
            amount: bonus.to_string(),
            amount_units: units(bonus),
            credit_fee: None,
            fee_units: 0,
            fee_account: None,
            subject: "Registration bonus.".to_owned(),
            date: crate::taler::Timestamp::now().to_db(),
            request_uid: None,
            taler: Default::default(),
            bounce_unless_incoming: false,
            withdrawal: None,
            challenge: None,
        },
    )
    .await
    .map_err(ApiError::db_store)?;
    if !matches!(outcome, TransferOutcome::Done(..)) {
        store::remove_unused_account(&state.db, account.account_id)
            .await
            .map_err(ApiError::db_store)?;
        return Err(ApiError::new(
            ErrorCode::BankUnallowedDebit,
            "the administrator's account cannot afford the registration bonus",
        ));
    }
    if channel.is_none() {
        state
            .incoming
            .notify(&state.db, account.account_id)
            .await
            .ok();
    }
    Ok(())
}

/// The reserve or KYC key a wire transfer subject names, as libeufin-bank reads it:
/// a 52-character Crockford base32 token that decodes to 32 bytes; after `KYC` it is
/// an account key for KYC authentication.
pub fn incoming_metadata(subject: &str) -> TalerMetadata {
    let tokens: Vec<&str> = subject
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        let upper = token.to_ascii_uppercase();
        if upper.len() == 52 && keys::decode(&upper, 32).is_some() {
            let kyc = i > 0 && tokens[i - 1].eq_ignore_ascii_case("KYC");
            return if kyc {
                TalerMetadata {
                    account_pub: Some(upper),
                    ..Default::default()
                }
            } else {
                TalerMetadata {
                    reserve_pub: Some(upper),
                    ..Default::default()
                }
            };
        }
    }
    TalerMetadata::default()
}

/// Books a transfer and maps its outcome; wakes the pollers of both accounts. Every
/// transfer of the bank goes through here (core, Wire Gateway).
pub async fn book(state: &State, new: NewTransfer) -> Result<(u64, Timestamp), ApiError> {
    let (debtor, creditor) = (new.debtor, new.creditor);
    // On PostgreSQL the transfer's own statement notifies both accounts' pollers.
    let channel = state.incoming.channel();
    let outcome = store::transfer(&state.db, channel, new)
        .await
        .map_err(ApiError::db_store)?;
    let conflict = |code, hint: &str| Err(ApiError::new(code, hint.to_owned()));
    match outcome {
        TransferOutcome::Done(row_id, date) => {
            if channel.is_none() {
                for account in [creditor, debtor] {
                    // In this process: it cannot fail.
                    state.incoming.notify(&state.db, account).await.ok();
                }
            }
            Ok((row_id as u64, Timestamp::from_db(date)))
        }
        TransferOutcome::RequestUidReused => conflict(
            ErrorCode::BankTransferRequestUidReused,
            "request_uid was used for a different transfer",
        ),
        TransferOutcome::WtidReused => conflict(
            ErrorCode::BankTransferWtidReused,
            "wtid was used for a different transfer",
        ),
        TransferOutcome::ReservePubReused => conflict(
            ErrorCode::BankDuplicateReservePubSubject,
            "this reserve public key was used before",
        ),
        TransferOutcome::UnallowedDebit => conflict(
            ErrorCode::BankUnallowedDebit,
            "the transfer would take the debtor below its debit threshold",
        ),
        TransferOutcome::WithdrawalNotSelected => conflict(
            ErrorCode::BankConfirmAbortConflict,
            "the withdrawal was aborted meanwhile",
        ),
        TransferOutcome::ChallengeUsed => Err(crate::bank::tan::used_already()),
    }
}

/// A transfer between two accounts of this bank, with the credit fee as configured:
/// the checks every transfer passes (currency, not zero, two accounts, above the fee).
pub async fn new_transfer(
    state: &State,
    debtor: &Account,
    creditor: &Account,
    amount: &Amount,
    subject: String,
    request_uid: Option<String>,
    taler: TalerMetadata,
) -> Result<NewTransfer, ApiError> {
    require_currency(amount, &state.config.currency, "amount")?;
    if amount.is_zero() {
        return Err(ApiError::malformed("amount", "the amount must not be zero"));
    }
    if debtor.account_id == creditor.account_id {
        return Err(ApiError::new(
            ErrorCode::BankSameAccount,
            "debtor and creditor are the same account",
        ));
    }
    let fee = state.config.bank_credit_fee.as_ref();
    if let Some(fee) = fee
        && amount.cmp_same_currency(fee) != Some(std::cmp::Ordering::Greater)
    {
        return Err(ApiError::new(
            ErrorCode::BankUnallowedDebit,
            format!("the amount does not exceed the credit fee {fee}"),
        ));
    }
    Ok(NewTransfer {
        debtor: debtor.account_id,
        creditor: creditor.account_id,
        amount: amount.to_string(),
        amount_units: crate::bank::ledger::units(amount),
        credit_fee: fee.map(ToString::to_string),
        fee_units: fee.map_or(0, crate::bank::ledger::units),
        fee_account: Some(state.bank_admin_account),
        subject,
        date: Timestamp::now().to_db(),
        request_uid,
        taler,
        bounce_unless_incoming: false,
        withdrawal: None,
        challenge: None,
    })
}

/// `taler-openapi passwd USERNAME PASSWORD`: sets a bank account's password from the
/// command line, as `libeufin-bank passwd` does (the administrator's first one).
pub async fn set_password(
    db: &sea_orm::DatabaseConnection,
    wire: &crate::config::BankWire,
    username: &str,
    password: &str,
) -> Result<(), String> {
    ensure_admin_account(db, wire)
        .await
        .map_err(|e| format!("cannot create the administrator's account: {e}"))?;
    password_rule(password).map_err(|e| e.to_string())?;
    let account = store::find_account(db, username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the bank has no account `{username}`"))?;
    let changes = store::AccountChanges {
        password_hash: Some(crate::taler::secret::hash_password(password)),
        ..Default::default()
    };
    store::update_account(db, account.account_id, changes)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Password lengths the bank accepts, as libeufin-bank's password check: 409
/// `BANK_PASSWORD_TOO_SHORT` below 8 characters, `BANK_PASSWORD_TOO_LONG` above 64.
pub fn password_rule(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(ApiError::new(
            ErrorCode::BankPasswordTooShort,
            "the password must have at least 8 characters",
        ));
    }
    if chars > 64 {
        return Err(ApiError::new(
            ErrorCode::BankPasswordTooLong,
            "the password must have at most 64 characters",
        ));
    }
    Ok(())
}

/// `taler-openapi gc`: the bank's garbage collection (`store::gc`), with libeufin-bank's
/// options and defaults: `[bank] GC_ABORT_AFTER` (15 minutes: withdrawals nobody
/// finished by then are aborted) and `GC_CLEAN_AFTER` (14 days: aborted withdrawals and
/// expired tokens older than that are deleted). Transfers are kept: the histories and
/// the balances they explain stay whole.
pub async fn collect_garbage(
    db: &sea_orm::DatabaseConnection,
    ini: &crate::config::Ini,
) -> Result<store::gc::Collected, String> {
    let secs = |key: &str, default: i64| -> Result<i64, String> {
        match ini.get("bank", key) {
            None => Ok(default),
            Some(v) => match crate::taler::RelativeTime::parse_fancy(v) {
                Some(crate::taler::RelativeTime::Micros(us)) => Ok((us / 1_000_000) as i64),
                _ => Err(format!(
                    "[bank] {key}: `{v}` is no finite relative time (`14 days`)"
                )),
            },
        }
    };
    let abort_after = secs("GC_ABORT_AFTER", 15 * 60)?;
    let clean_after = secs("GC_CLEAN_AFTER", 14 * 86_400)?;
    let now = Timestamp::now().to_db();
    store::gc::collect(
        db,
        now.saturating_sub(abort_after),
        now.saturating_sub(clean_after),
    )
    .await
    .map_err(|e| format!("garbage collection failed: {e}"))
}
