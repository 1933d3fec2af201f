//! The operations of the core bank API's accounts (see the folder's `mod.rs`).
//! Transfers are `transactions`'.

use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use crate::{
    bank::{
        accounts::types::{
            AccountData, AccountFound, AccountMinimalData, AccountPasswordChange,
            AccountReconfiguration, AccountRegistered, AccountsListed, Balance, BankConfig,
            ChallengeContactData, DeleteAccountErrors, DeleteTokenErrors, GetAccountErrors,
            ListAccountsErrors, ListBankAccountsResponse, ListTokensErrors, PatchAccountErrors,
            PostAccountsErrors, PostTokenErrors, PublicAccount, PublicAccountsErrors,
            PublicAccountsListed, PublicAccountsResponse, RegisterAccountRequest,
            RegisterAccountResponse, TokenCreated, TokenInfo, TokenInfos, TokenRequest,
            TokenSuccessResponse, TokensListed, balance, conflict,
        },
        auth::{self, BankBearer, BankCredentials, MaybeBankCredentials, Need},
        ledger::ADMIN_ACCOUNT,
        payto::{Payto, Target, accounts_payto, iban_key, random_iban, x_taler_bank_key},
        tags::ApiTags,
        tan::{self, Gate, Op, Protected},
    },
    config::BankWire,
    http::{JsonBody, NoContent},
    state::State,
    store::bank::{self as store, AccountChanges, CreateOutcome, DeleteOutcome, NewAccount},
    taler::{
        ApiError, ErrorCode, RelativeTime, Timestamp,
        amount::require_currency,
        pagination::{Page, PageLimit},
        secret,
    },
};

fn bad_payto(hint: String) -> ApiError {
    ApiError::new(ErrorCode::GenericJsonInvalid, hint).parameter("payto_uri")
}

/// The canonical address a registration asks for, if it gives one: of this bank's
/// kind and, on an x-taler-bank bank, naming the account itself, so that nobody
/// registers another account's address.
fn account_address(
    wire: &BankWire,
    req: &RegisterAccountRequest,
) -> Result<Option<String>, ApiError> {
    let Some(text) = req.payto_uri.as_deref() else {
        return Ok(None);
    };
    let p = Payto::parse(text, "payto_uri")?;
    match (wire, &p.target) {
        (BankWire::XTalerBank { .. }, Target::XTalerBank { username })
            if username.as_str() == req.username.as_str() =>
        {
            Ok(Some(p.key))
        }
        (BankWire::XTalerBank { .. }, Target::XTalerBank { username }) => Err(bad_payto(format!(
            "payto_uri names account `{username}`, not `{}`",
            req.username.as_str()
        ))),
        (BankWire::XTalerBank { .. }, Target::Iban { .. }) => Err(bad_payto(
            "this bank's accounts are x-taler-bank accounts".into(),
        )),
        (BankWire::Iban { .. }, Target::Iban { .. }) => Ok(Some(p.key)),
        (BankWire::Iban { .. }, Target::XTalerBank { .. }) => {
            Err(bad_payto("this bank's accounts are IBAN accounts".into()))
        }
    }
}

impl AccountsApi {
    /// Who registers an account: the administrator (true) or, on a bank with
    /// `ALLOW_REGISTRATIONS`, anyone (false). There, credentials that are not the
    /// administrator's count as none, as libeufin-bank's `authAdmin(enforce = false)`.
    async fn registrar(&self, credentials: MaybeBankCredentials) -> Result<bool, ApiError> {
        let open = self.0.config.bank_allow.registrations;
        match credentials.0 {
            Some(mut c) => {
                match auth::authorize(&self.0, ADMIN_ACCOUNT, &mut c, Need::Admin).await {
                    Ok(_) => Ok(true),
                    Err(_) if open => Ok(false),
                    Err(e) => Err(e),
                }
            }
            None if open => Ok(false),
            None => Err(ApiError::with_status(
                poem::http::StatusCode::UNAUTHORIZED,
                ErrorCode::GenericParameterMissing,
                "only the administrator registers accounts on this bank: the Authorization header is missing",
            )),
        }
    }

    /// The account a registration repeats, as libeufin-bank answers it again: the
    /// same username, password, name, flags, contact data and (if given) address.
    async fn same_registration(
        &self,
        req: &RegisterAccountRequest,
        payto_key: Option<&str>,
        contact_data: &Option<String>,
    ) -> Result<Option<store::Account>, ApiError> {
        let Some(existing) = store::find_account(&self.0.db, &req.username)
            .await
            .map_err(ApiError::db_fetch)?
        else {
            return Ok(None);
        };
        let same = existing.name == *req.name
            && existing.is_public == req.is_public.unwrap_or(false)
            && existing.is_taler_exchange == req.is_taler_exchange.unwrap_or(false)
            && existing.contact_data == *contact_data
            && payto_key.is_none_or(|k| k == existing.payto_key);
        if !same {
            return Ok(None);
        }
        let password_matches = self
            .0
            .logins
            .pool
            .verify(&req.password, &existing.password_hash)
            .await
            .map_err(ApiError::from)?;
        Ok(password_matches.then_some(existing))
    }
}

/// Stored contact data with the fields of `patch` replacing theirs.
fn merge_contact(stored: Option<&str>, patch: &ChallengeContactData) -> String {
    let mut merged: ChallengeContactData = stored
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(ChallengeContactData {
            email: None,
            phone: None,
        });
    if patch.email.is_some() {
        merged.email = patch.email.clone();
    }
    if patch.phone.is_some() {
        merged.phone = patch.phone.clone();
    }
    serde_json::to_string(&merged).expect("serializable")
}

impl AccountsApi {
    /// The second factor of an owner's change, as libeufin-bank asks it: a challenge on
    /// the current channels if the account has any, and if the change brings a new
    /// channel or address, a challenge at each new one too (all of them, so that
    /// every new address is proven). Those are raised only once the first is solved,
    /// so solving them proves both.
    async fn second_factor_of_patch(
        &self,
        account: &store::Account,
        hash: &str,
        challenge_ids: &Header<Option<String>>,
        old_targets: &[(tan::TanChannel, String)],
        new_targets: &[(tan::TanChannel, String)],
    ) -> Result<Gate, ApiError> {
        let ids = tan::header_ids(challenge_ids.0.as_deref());
        let added: Vec<_> = new_targets
            .iter()
            .filter(|t| !old_targets.contains(t))
            .cloned()
            .collect();
        let id = account.account_id;
        if !added.is_empty()
            && let Some(serials) = tan::covered(
                &self.0,
                id,
                Op::AccountReconfigNewTan,
                hash,
                &ids,
                &added,
                true,
            )
            .await?
        {
            return Ok(Gate::Open(serials));
        }
        let mut serials = Vec::new();
        if !old_targets.is_empty() {
            match tan::gate(
                &self.0,
                id,
                Op::AccountReconfig,
                hash,
                &ids,
                old_targets,
                false,
            )
            .await?
            {
                Gate::Open(s) => serials = s,
                challenge => return Ok(challenge),
            }
        }
        if !added.is_empty() {
            let c =
                tan::challenge(&self.0, id, Op::AccountReconfigNewTan, hash, &added, true).await?;
            return Ok(Gate::Challenge(c));
        }
        Ok(Gate::Open(serials))
    }
}

/// Usernames the bank keeps for itself.
const RESERVED_USERNAMES: &[&str] = &["admin", "bank"];

pub struct AccountsApi(pub State);

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Create a bank account
    ///
    /// Administrator only (the bank's administrator token).
    #[oai(
        path = "/accounts",
        method = "post",
        operation_id = "bank_post_accounts"
    )]
    async fn post_account(
        &self,
        credentials: MaybeBankCredentials,
        body: JsonBody<RegisterAccountRequest>,
    ) -> Result<AccountRegistered, PostAccountsErrors> {
        let admin = self.registrar(credentials).await?;
        let req = body.0;
        if !admin && req.debit_threshold.is_some() {
            return Err(conflict(
                ErrorCode::BankNonAdminPatchDebtLimit,
                "only the administrator chooses a new account's debit threshold",
            )
            .into());
        }
        if RESERVED_USERNAMES.contains(&req.username.as_str()) {
            return Err(ApiError::new(
                ErrorCode::BankReservedUsernameConflict,
                format!("username `{}` is reserved", req.username),
            )
            .into());
        }
        let debit_threshold = match &req.debit_threshold {
            Some(t) => {
                require_currency(t, &self.0.config.currency, "debit_threshold")?;
                t.clone()
            }
            None => self.0.config.bank_default_debit_threshold.clone(),
        };
        crate::bank::ledger::password_rule(&req.password)?;
        let given = account_address(&self.0.config.bank_wire, &req)?;
        let password_hash = self.0.logins.hash(&req.password).await?;
        let contact_data = req
            .contact_data
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok());
        let tan_channels =
            tan::requested(req.tan_channel, req.tan_channels.as_deref()).unwrap_or_default();
        if !tan_channels.is_empty() {
            if !admin {
                return Err(conflict(
                    ErrorCode::BankNonAdminSetTanChannel,
                    "only the administrator turns a new account's second factor on",
                )
                .into());
            }
            tan::require_supported(&self.0, &tan_channels)?;
            tan::require_addresses(&tan_channels, contact_data.as_deref())?;
        }
        // A generated IBAN that is taken already is drawn again, as libeufin-bank does.
        let mut draws = if given.is_none() { 8 } else { 0 };
        loop {
            let payto_key = given
                .clone()
                .unwrap_or_else(|| match self.0.config.bank_wire {
                    BankWire::XTalerBank { .. } => x_taler_bank_key(&req.username),
                    BankWire::Iban { .. } => iban_key(&random_iban()),
                });
            let new = NewAccount {
                username: req.username.to_string(),
                password_hash: password_hash.clone(),
                name: req.name.to_string(),
                payto_key: payto_key.clone(),
                is_public: req.is_public.unwrap_or(false),
                is_taler_exchange: req.is_taler_exchange.unwrap_or(false),
                debit_threshold: crate::bank::ledger::units(&debit_threshold),
                contact_data: contact_data.clone(),
                tan_channels: tan::store_channels(&tan_channels),
            };
            let outcome = store::create_account(&self.0.db, new)
                .await
                .map_err(ApiError::db_store)?;
            let wire = &self.0.config.bank_wire;
            return match outcome {
                CreateOutcome::Created => {
                    // Exchanges get no bonus, as in libeufin-bank.
                    if let Some(bonus) = &self.0.config.bank_registration_bonus
                        && !req.is_taler_exchange.unwrap_or(false)
                    {
                        crate::bank::ledger::registration_bonus(&self.0, &req.username, bonus)
                            .await?;
                    }
                    let internal_payto_uri =
                        crate::bank::payto::payto_with_name(wire, &payto_key, &req.name);
                    Ok(AccountRegistered::Ok(Json(RegisterAccountResponse {
                        internal_payto_uri,
                    })))
                }
                CreateOutcome::UsernameTaken => {
                    match self
                        .same_registration(&req, given.as_deref(), &contact_data)
                        .await?
                    {
                        Some(existing) => {
                            Ok(AccountRegistered::Ok(Json(RegisterAccountResponse {
                                internal_payto_uri: accounts_payto(wire, &existing),
                            })))
                        }
                        None => Err(ApiError::new(
                            ErrorCode::BankRegisterUsernameReuse,
                            "the username is taken",
                        )
                        .into()),
                    }
                }
                CreateOutcome::PaytoTaken if draws > 0 => {
                    draws -= 1;
                    continue;
                }
                CreateOutcome::PaytoTaken => Err(ApiError::new(
                    ErrorCode::BankRegisterPaytoUriReuse,
                    "the payto URI belongs to another account",
                )
                .into()),
            };
        }
    }

    /// Create an access token
    ///
    /// With the account's password (HTTP Basic). Tokens last one day unless a
    /// duration is given; at most one year.
    #[oai(
        path = "/accounts/:USERNAME/token",
        method = "post",
        operation_id = "bank_post_account_token"
    )]
    async fn post_token(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Solved challenges of a login with a second factor (comma-separated ids).
        #[oai(name = "Taler-Challenge-Ids", validator(max_length = 512))]
        challenge_ids: Header<Option<String>>,
        body: JsonBody<TokenRequest>,
    ) -> Result<TokenCreated, PostTokenErrors> {
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Refresh).await?;
        // A login with the password needs the second factor; refreshing a token does not.
        if credentials.is_password() {
            if account.tan_login_failures >= tan::LOGIN_FAILURES_LOCK && !credentials.is_admin() {
                return Err(ApiError::new(
                    ErrorCode::BankAccountLocked,
                    "too many wrong codes for login challenges: the account's logins are locked until its password changes",
                )
                .into());
            }
            let hash = tan::body_hash(Op::CreateToken, &tan::canonical(&body.0));
            let ids = tan::header_ids(challenge_ids.0.as_deref());
            match tan::second_factor(
                &self.0,
                &account,
                credentials.is_admin(),
                Op::CreateToken,
                &hash,
                &ids,
            )
            .await?
            {
                Gate::Open(serials) => tan::use_up(&self.0, &serials).await?,
                Gate::Challenge(c) => return Ok(TokenCreated::Challenge(Json(c))),
            }
        }
        let scope = poem_openapi::types::ToJSON::to_json(&body.scope)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        // A token refreshes into one of its own scope or a narrower one, as libeufin-bank
        // refuses a `readwrite` token from a `readonly` one.
        if let Some(current) = credentials.token_scope()
            && current != "readwrite"
            && current != scope
        {
            return Err(ApiError::new(
                ErrorCode::GenericTokenPermissionInsufficient,
                format!("a `{current}` token cannot mint a `{scope}` token"),
            )
            .into());
        }
        const DAY_US: u64 = 86_400_000_000;
        // `forever` never expires, as in libeufin-bank.
        let duration = body.duration.unwrap_or(RelativeTime::Micros(DAY_US));
        let expiration = Timestamp::now().plus(duration);
        let access_token = secret::generate_token();
        store::insert_token(
            &self.0.db,
            store::Token {
                token_serial: 0,
                account_id: account.account_id,
                token_hash: secret::token_hash(&access_token),
                scope,
                expiration: expiration.to_db(),
                refreshable: body.refreshable.unwrap_or(false),
                description: body.0.description,
                creation_time: Timestamp::now().to_db(),
            },
        )
        .await
        .map_err(ApiError::db_store)?;
        Ok(TokenCreated::Ok(Json(TokenSuccessResponse {
            expiration,
            access_token,
        })))
    }

    /// Bank configuration
    ///
    /// The currency, how to render it, and what this bank allows.
    #[oai(path = "/config", method = "get", operation_id = "bank_get_config")]
    async fn get_config(&self) -> Json<BankConfig> {
        let c = &self.0.config;
        Json(BankConfig {
            name: "taler-corebank".to_owned(),
            version: "10:0:0".to_owned(),
            bank_name: "Taler Bank".to_owned(),
            supported_tan_channels: c.bank_tan_channels.keys().cloned().collect(),
            currency: c.currency.clone(),
            currency_specification: (&c.currency_spec).into(),
            allow_conversion: false,
            allow_registrations: c.bank_allow.registrations,
            allow_deletions: c.bank_allow.deletions,
            allow_edit_name: c.bank_allow.edit_name,
            allow_edit_cashout_payto_uri: c.bank_allow.edit_cashout_payto_uri,
            default_debit_threshold: c.bank_default_debit_threshold.clone(),
            wire_type: c.bank_wire.wire_type().to_owned(),
        })
    }

    /// Get an account
    ///
    /// Its balance, debit threshold and settings. The account itself (password, or a
    /// `readonly` or `readwrite` token) or the administrator.
    #[oai(
        path = "/accounts/:USERNAME",
        method = "get",
        operation_id = "bank_get_account"
    )]
    async fn get_account(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
    ) -> Result<AccountFound, GetAccountErrors> {
        let a = auth::authorize(&self.0, &username, &mut credentials, Need::Read).await?;
        let currency = &self.0.config.currency;
        let balance = store::balance_of(&a);
        let channels = tan::channels_of(&a);
        Ok(AccountFound::Ok(Json(AccountData {
            tan_channel: channels.first().copied(),
            tan_channels: (!channels.is_empty()).then_some(channels),
            payto_uri: accounts_payto(&self.0.config.bank_wire, &a),
            balance: Balance {
                amount: crate::bank::ledger::amount_of(currency, balance),
                credit_debit_indicator: if balance < 0 { "debit" } else { "credit" }.to_owned(),
            },
            debit_threshold: crate::bank::ledger::amount_of(currency, store::threshold_of(&a)),
            name: a.name,
            is_public: a.is_public,
            is_taler_exchange: a.is_taler_exchange,
            status: "active".to_owned(),
            contact_data: a
                .contact_data
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
        })))
    }

    /// Change an account
    ///
    /// The owner may make it public or private; the administrator also changes its
    /// name, debit threshold and exchange flag.
    #[oai(
        path = "/accounts/:USERNAME",
        method = "patch",
        operation_id = "bank_patch_account"
    )]
    async fn patch(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Solved challenges of this change (comma-separated ids).
        #[oai(name = "Taler-Challenge-Ids", validator(max_length = 512))]
        challenge_ids: Header<Option<String>>,
        body: JsonBody<AccountReconfiguration>,
    ) -> Result<Protected, PatchAccountErrors> {
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Manage).await?;
        let admin = credentials.is_admin();
        let req = body.0;
        let hash = tan::body_hash(Op::AccountReconfig, &tan::canonical(&req));
        if account.username == ADMIN_ACCOUNT && req.is_public == Some(true) {
            // libeufin-bank answers this with `TALER_EC_END`.
            return Err(conflict(
                ErrorCode::End,
                "the administrator's account cannot be public",
            )
            .into());
        }
        let may_edit_name = admin || self.0.config.bank_allow.edit_name;
        if !may_edit_name && req.name.as_ref().is_some_and(|n| **n != account.name) {
            return Err(conflict(
                ErrorCode::BankNonAdminPatchLegalName,
                "only the administrator changes the legal name",
            )
            .into());
        }
        let threshold = match &req.debit_threshold {
            Some(t) => {
                require_currency(t, &self.0.config.currency, "debit_threshold")?;
                let units = crate::bank::ledger::units(t);
                if !admin && units != store::threshold_of(&account) {
                    return Err(conflict(
                        ErrorCode::BankNonAdminPatchDebtLimit,
                        "only the administrator changes the debit threshold",
                    )
                    .into());
                }
                Some(units)
            }
            None => None,
        };
        if let Some(exchange) = req.is_taler_exchange
            && exchange != account.is_taler_exchange
        {
            if account.username == ADMIN_ACCOUNT {
                return Err(conflict(
                    ErrorCode::BankPatchAdminExchange,
                    "the administrator's account cannot be an exchange",
                )
                .into());
            }
            if !admin {
                return Err(ApiError::new(
                    ErrorCode::GenericForbidden,
                    "only the administrator changes the exchange flag",
                )
                .into());
            }
        }
        // The contact fields given replace those stored, as libeufin-bank patches them.
        let contact = req
            .contact_data
            .as_ref()
            .map(|c| merge_contact(account.contact_data.as_deref(), c));
        let requested = tan::requested(req.tan_channel, req.tan_channels.as_deref());
        let old_channels = tan::channels_of(&account);
        let new_channels = requested.clone().unwrap_or_else(|| old_channels.clone());
        let new_contact = contact.clone().or_else(|| account.contact_data.clone());
        if let Some(channels) = &requested {
            tan::require_supported(&self.0, channels)?;
            tan::require_addresses(channels, new_contact.as_deref())?;
        }
        let old_targets = tan::targets(&old_channels, account.contact_data.as_deref());
        let new_targets = tan::targets(&new_channels, new_contact.as_deref());
        let tan_changed = old_targets != new_targets;
        if !admin {
            match self
                .second_factor_of_patch(&account, &hash, &challenge_ids, &old_targets, &new_targets)
                .await?
            {
                Gate::Open(serials) => tan::use_up(&self.0, &serials).await?,
                Gate::Challenge(c) => return Ok(Protected::Challenge(Json(c))),
            }
        }
        let changes = AccountChanges {
            name: req.name.map(String::from),
            is_public: req.is_public,
            is_taler_exchange: req.is_taler_exchange,
            debit_threshold: threshold,
            password_hash: None,
            contact_data: contact.map(Some),
            tan_channels: requested.map(|c| tan::store_channels(&c)),
        };
        if store::update_account(&self.0.db, account.account_id, changes)
            .await
            .map_err(ApiError::db_store)?
        {
            if tan_changed {
                store::challenges::invalidate_pending(&self.0.db, account.account_id)
                    .await
                    .map_err(ApiError::db_store)?;
            }
            Ok(Protected::Done)
        } else {
            // Deleted meanwhile.
            Err(auth::account(&self.0, &username)
                .await
                .err()
                .unwrap_or_else(|| ApiError::db_store("the account changed meanwhile"))
                .into())
        }
    }

    /// Change an account's password
    ///
    /// The owner gives the current password too; the administrator does not.
    #[oai(
        path = "/accounts/:USERNAME/auth",
        method = "patch",
        operation_id = "bank_patch_account_auth"
    )]
    async fn patch_auth(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Solved challenges of this change (comma-separated ids).
        #[oai(name = "Taler-Challenge-Ids", validator(max_length = 512))]
        challenge_ids: Header<Option<String>>,
        body: JsonBody<AccountPasswordChange>,
    ) -> Result<Protected, PatchAccountErrors> {
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Manage).await?;
        let req = body.0;
        let hash = tan::body_hash(Op::AccountAuthReconfig, &tan::canonical(&req));
        if !credentials.is_admin() {
            let Some(old) = &req.old_password else {
                return Err(conflict(
                    ErrorCode::BankNonAdminPatchMissingOldPassword,
                    "give the current password as old_password",
                )
                .into());
            };
            self.0
                .logins
                .check(
                    "bank",
                    &account.username,
                    &account.username,
                    old,
                    &account.password_hash,
                    || conflict(ErrorCode::BankPatchBadOldPassword, "old_password is wrong"),
                )
                .await?;
        }
        crate::bank::ledger::password_rule(&req.new_password)?;
        let ids = tan::header_ids(challenge_ids.0.as_deref());
        let admin = credentials.is_admin();
        match tan::second_factor(
            &self.0,
            &account,
            admin,
            Op::AccountAuthReconfig,
            &hash,
            &ids,
        )
        .await?
        {
            Gate::Open(serials) => tan::use_up(&self.0, &serials).await?,
            Gate::Challenge(c) => return Ok(Protected::Challenge(Json(c))),
        }
        let password_hash = self.0.logins.hash(&req.new_password).await?;
        let changes = AccountChanges {
            password_hash: Some(password_hash),
            ..Default::default()
        };
        store::update_account(&self.0.db, account.account_id, changes)
            .await
            .map_err(ApiError::db_store)?;
        Ok(Protected::Done)
    }

    /// Delete an account
    ///
    /// Only with a zero balance. Its transfers stay in the other accounts' histories;
    /// its username and payto URI stay taken; its tokens stop working.
    #[oai(
        path = "/accounts/:USERNAME",
        method = "delete",
        operation_id = "bank_delete_account"
    )]
    async fn delete(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// Solved challenges of this deletion (comma-separated ids).
        #[oai(name = "Taler-Challenge-Ids", validator(max_length = 512))]
        challenge_ids: Header<Option<String>>,
    ) -> Result<Protected, DeleteAccountErrors> {
        // The credentials are checked already (the extractor does for a DELETE): the
        // reserved names answer first, as in libeufin-bank.
        if RESERVED_USERNAMES.contains(&username.as_str()) {
            return Err(conflict(
                ErrorCode::BankReservedUsernameConflict,
                &format!("account `{}` is reserved and cannot be deleted", username.0),
            )
            .into());
        }
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Manage).await?;
        if !credentials.is_admin() && !self.0.config.bank_allow.deletions {
            // libeufin-bank's `requireAdmin = !ALLOW_DELETIONS`.
            return Err(ApiError::new(
                ErrorCode::GenericUnauthorized,
                "only the administrator deletes accounts on this bank ([bank] ALLOW_DELETIONS)",
            )
            .into());
        }
        // The balance is checked before a challenge is raised: a code for a deletion
        // that cannot happen would only annoy the owner.
        if store::balance_of(&account) != 0 {
            return Err(conflict(
                ErrorCode::BankAccountBalanceNotZero,
                "the balance must be zero",
            )
            .into());
        }
        let hash = tan::body_hash(Op::AccountDelete, &account.username);
        let ids = tan::header_ids(challenge_ids.0.as_deref());
        let admin = credentials.is_admin();
        match tan::second_factor(&self.0, &account, admin, Op::AccountDelete, &hash, &ids).await? {
            Gate::Open(serials) => tan::use_up(&self.0, &serials).await?,
            Gate::Challenge(c) => return Ok(Protected::Challenge(Json(c))),
        }
        match store::delete_account(&self.0.db, account.account_id)
            .await
            .map_err(ApiError::db_store)?
        {
            DeleteOutcome::Deleted => Ok(Protected::Done),
            DeleteOutcome::BalanceNotZero => Err(conflict(
                ErrorCode::BankAccountBalanceNotZero,
                "the balance must be zero",
            )
            .into()),
            DeleteOutcome::Unknown => Err(auth::account(&self.0, &username)
                .await
                .err()
                .unwrap_or_else(|| ApiError::db_store("the account changed meanwhile"))
                .into()),
        }
    }

    /// List an account's tokens
    ///
    /// Row-id pagination by `token_id` (`limit` default -20, `offset`). The account
    /// itself (password, `readonly` or `readwrite` token) or the administrator.
    #[oai(
        path = "/accounts/:USERNAME/tokens",
        method = "get",
        operation_id = "bank_get_account_tokens"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_tokens(
        &self,
        mut credentials: BankCredentials,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
        /// At most this many tokens; negative for descending by `token_id`. Default -20.
        limit: Query<Option<PageLimit>>,
        /// `token_id` to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Deprecated: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
    ) -> Result<TokensListed, ListTokensErrors> {
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::Read).await?;
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let rows = store::list_tokens(&self.0.db, account.account_id, page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(TokensListed::Empty);
        }
        let tokens = rows
            .into_iter()
            .map(|t| TokenInfo {
                creation_time: Timestamp::from_db(t.creation_time),
                expiration: Timestamp::from_db(t.expiration),
                scope: t.scope,
                refreshable: t.refreshable,
                description: t.description,
                // Uses are not recorded (a write per request on the hot paths).
                last_access: Timestamp::from_db(t.creation_time),
                token_id: t.token_serial as u64,
                row_id: t.token_serial as u64,
            })
            .collect();
        Ok(TokensListed::Ok(Json(TokenInfos { tokens })))
    }

    /// Revoke a token
    ///
    /// The bearer token of this request stops working.
    #[oai(
        path = "/accounts/:USERNAME/token",
        method = "delete",
        operation_id = "bank_delete_account_token"
    )]
    async fn delete_token(
        &self,
        token: BankBearer,
        /// Account name.
        #[oai(name = "USERNAME")]
        username: Path<String>,
    ) -> Result<NoContent, DeleteTokenErrors> {
        let mut credentials = token.0;
        // A token of any scope may revoke itself.
        let account = auth::authorize(&self.0, &username, &mut credentials, Need::AnyScope).await?;
        if let Some(hash) = credentials.token_hash() {
            store::delete_token(&self.0.db, account.account_id, &hash)
                .await
                .map_err(ApiError::db_store)?;
        }
        Ok(NoContent::Done)
    }

    /// List accounts
    ///
    /// The administrator only. Row-id pagination (`limit` default -20, `offset`);
    /// `filter_name` keeps accounts whose legal name contains it (any case).
    #[oai(path = "/accounts", method = "get", operation_id = "bank_get_accounts")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        mut credentials: BankCredentials,
        /// At most this many accounts; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Only accounts whose legal name contains this (any case).
        #[oai(validator(max_length = 128))]
        filter_name: Query<Option<String>>,
        /// Deprecated: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
    ) -> Result<AccountsListed, ListAccountsErrors> {
        auth::authorize(&self.0, ADMIN_ACCOUNT, &mut credentials, Need::Admin).await?;
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let rows = store::list_accounts(&self.0.db, false, filter_name.0.as_deref(), page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(AccountsListed::Empty);
        }
        let currency = &self.0.config.currency;
        let accounts = rows
            .into_iter()
            .map(|a| AccountMinimalData {
                payto_uri: accounts_payto(&self.0.config.bank_wire, &a),
                balance: balance(currency, &a),
                debit_threshold: crate::bank::ledger::amount_of(currency, store::threshold_of(&a)),
                row_id: a.account_id as u64,
                username: a.username,
                name: a.name,
                is_public: a.is_public,
                is_taler_exchange: a.is_taler_exchange,
                status: "active".to_owned(),
            })
            .collect();
        Ok(AccountsListed::Ok(Json(ListBankAccountsResponse {
            accounts,
        })))
    }

    /// List public accounts
    ///
    /// Anyone. Row-id pagination (`limit` default -20, `offset`); `filter_name` keeps
    /// accounts whose legal name contains it (any case).
    #[oai(
        path = "/public-accounts",
        method = "get",
        operation_id = "bank_get_public_accounts"
    )]
    async fn public(
        &self,
        /// At most this many accounts; negative for descending by row id. Default -20.
        limit: Query<Option<PageLimit>>,
        /// Row id to start after.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
        /// Only accounts whose legal name contains this (any case).
        #[oai(validator(max_length = 128))]
        filter_name: Query<Option<String>>,
        /// Deprecated: use `limit`.
        #[oai(deprecated)]
        delta: Query<Option<PageLimit>>,
        /// Deprecated: use `offset`.
        #[oai(deprecated, validator(minimum(value = "0")))]
        start: Query<Option<i64>>,
    ) -> Result<PublicAccountsListed, PublicAccountsErrors> {
        let page = Page::new(limit.0.or(delta.0), offset.0.or(start.0))?;
        let rows = store::list_accounts(&self.0.db, true, filter_name.0.as_deref(), page)
            .await
            .map_err(ApiError::db_fetch)?;
        if rows.is_empty() {
            return Ok(PublicAccountsListed::Empty);
        }
        let currency = &self.0.config.currency;
        let public_accounts = rows
            .into_iter()
            .map(|a| PublicAccount {
                payto_uri: accounts_payto(&self.0.config.bank_wire, &a),
                balance: balance(currency, &a),
                row_id: a.account_id as u64,
                username: a.username,
                is_taler_exchange: a.is_taler_exchange,
            })
            .collect();
        Ok(PublicAccountsListed::Ok(Json(PublicAccountsResponse {
            public_accounts,
        })))
    }
}
