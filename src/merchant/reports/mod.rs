//! Periodic reports: `[/instances/$INSTANCE]/private/reports[/$REPORT_ID]` to manage
//! them, and `[/instances/$INSTANCE]/reports/$REPORT_ID`, which returns a report's
//! content to whoever holds its `report_token` (Taler's external report generator, and
//! this server's own scheduler in `report_scheduler`, which shares [`generate`]).

pub mod scheduler;

use std::{process::Stdio, time::Duration};

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::taler::text::{Base32Crock32, NotBlank, Text};
use crate::{
    NoContent, State,
    config::{ReportGenerator, ReportTargets},
    error_responses,
    http::JsonBody,
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        tags::ApiTags,
    },
    store::{
        self,
        reports::{self, Report, ReportSettings},
        tokens::{self, NewToken},
    },
    taler::{
        ApiError, ErrorCode, ErrorDetail, RelativeTime, Timestamp, keys,
        pagination::{Page, PageLimit},
        secret,
        time::unix_seconds,
    },
};

const REPORTS_READ: Permission = "reports-read";
const REPORTS_WRITE: Permission = "reports-write";

/// The only content type this backend's data sources produce.
const JSON: &str = "application/json";
/// Reports one instance may have at most.
pub const MAX_REPORTS_PER_INSTANCE: u64 = 64;
/// Longest report frequency (about ten years).
const MAX_FREQUENCY_US: u64 = 10 * 365 * 86_400 * 1_000_000;
/// How long fetching the data source may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Declares a report settings body: `ReportAddRequest` (POST) and `ReportPatchRequest`
/// (PATCH) have the same fields under their pages' two names.
macro_rules! report_settings_request {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Object)]
        pub struct $name {
            /// Description of the report. Possibly included in the report message.
            pub description: String,
            /// Merchant backend configuration section specifying the program to use to
            /// transmit the report (see `report_generators` in `GET /config`).
            pub program_section: String,
            /// Mime-type to request from the data source. This backend's data sources produce
            /// `application/json`.
            pub mime_type: String,
            /// URL under the instance to request the data from. Must start with '/'. The base
            /// URL and the instance prefix will be prefixed to the given data source. It must
            /// name one of the instance's own `GET /private/...` endpoints (checked after
            /// percent-decoding; no `.` or `..` segments).
            pub data_source: String,
            /// Address where the report program should send the report, inside the generator's
            /// target space: for a generator with a `TARGET_DIRECTORY`, a relative path of
            /// letters, digits, `.`, `_` and `-` segments inside that directory (no `..`, no
            /// absolute path, no `file://`); otherwise what its `TARGET_PATTERN` admits.
            pub target_address: Text<NotBlank>,
            /// Report frequency: finite, at least `MIN_REPORT_FREQUENCY_SECONDS` of the server's
            /// configuration (default 60 s). An instance has at most 64 reports.
            pub report_frequency: RelativeTime,
            /// Report frequency shift, less than the frequency. Defaults to zero if missing.
            pub report_frequency_shift: Option<RelativeTime>,
        }
    };
}

report_settings_request!(
    /// `ReportAddRequest`: a new periodic report.
    ReportAddRequest
);

report_settings_request!(
    /// `ReportPatchRequest`: a report's new settings (all of them).
    ReportPatchRequest
);

impl From<ReportPatchRequest> for ReportAddRequest {
    fn from(p: ReportPatchRequest) -> Self {
        ReportAddRequest {
            description: p.description,
            program_section: p.program_section,
            mime_type: p.mime_type,
            data_source: p.data_source,
            target_address: p.target_address,
            report_frequency: p.report_frequency,
            report_frequency_shift: p.report_frequency_shift,
        }
    }
}

/// `ReportAddedResponse`.
#[derive(Object)]
pub struct ReportAddedResponse {
    /// Unique ID for the report (`$REPORT_ID`).
    pub report_serial_id: u64,
}

/// `ReportsSummaryResponse`.
#[derive(Object)]
pub struct ReportsSummaryResponse {
    /// Return reports that are present in our backend.
    pub reports: Vec<ReportEntry>,
}

/// `ReportEntry`.
#[derive(Object)]
pub struct ReportEntry {
    /// Report identifier.
    pub report_serial: u64,
    /// Description for the report.
    pub description: String,
    /// Report frequency.
    pub report_frequency: RelativeTime,
}

/// `ReportDetailResponse`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReportDetailResponse {
    /// Report identifier.
    pub report_serial: u64,
    /// Description of the report. Possibly included in the report message.
    pub description: String,
    /// Merchant backend configuration section specifying the program to use to
    /// transmit the report.
    pub program_section: String,
    /// Mime-type to request from the data source.
    pub mime_type: String,
    /// URL under the instance to request the data from.
    pub data_source: String,
    /// Address where the report program should send the report.
    pub target_address: Text<NotBlank>,
    /// Report frequency.
    pub report_frequency: RelativeTime,
    /// Report frequency shift.
    pub report_frequency_shift: RelativeTime,
    /// Timestamp of the next scheduled transmission (or retry).
    pub next_transmission: Timestamp,
    /// Numeric error code of the error encountered in generating the latest report.
    /// Absent if there was no error.
    pub last_error_code: Option<u32>,
    /// Details about any error encountered in generating the latest report.
    pub last_error_detail: Option<String>,
}

/// `ReportGenerationRequest`.
#[derive(Object)]
pub struct ReportGenerationRequest {
    /// Report token authorizing the report generation (a `ShortHashCode`: 52
    /// Crockford base32 characters).
    pub report_token: Text<Base32Crock32>,
}

#[derive(ApiResponse)]
pub enum ReportAdded {
    /// The backend has successfully added a new report.
    #[oai(status = 200)]
    Ok(Json<ReportAddedResponse>),
}

#[derive(ApiResponse)]
pub enum ReportsListed {
    /// The backend has successfully returned the reports (possibly none).
    #[oai(status = 200)]
    Ok(Json<ReportsSummaryResponse>),
}

#[derive(ApiResponse)]
pub enum ReportFound {
    /// The report's settings, schedule and last outcome.
    #[oai(status = 200)]
    Ok(Json<ReportDetailResponse>),
}

#[derive(ApiResponse)]
pub enum ReportGenerated {
    /// The report's content, as its data source produced it. The content type is the
    /// report's `mime_type`, which this backend's data sources limit to
    /// `application/json`.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
}

error_responses!(PostReportErrors {
    400 => "Malformed JSON or missing fields; the hint names the field (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `reports-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`), or the instance already has 64 reports (`TALER_EC_GENERIC_FORBIDDEN`).",
    404 => "The merchant instance is unknown (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    501 => "The report generator named in `program_section` is not configured (`TALER_EC_MERCHANT_GENERIC_REPORT_GENERATOR_UNCONFIGURED`).",
});

error_responses!(ListReportsErrors {
    400 => "A query parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `reports-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The backend does not know the instance (`TALER_EC_MERCHANT_GENERIC_INSTANCE_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(GetReportErrors {
    400 => "The report ID parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `reports-read` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The report or instance is unknown (`TALER_EC_MERCHANT_GENERIC_REPORT_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

error_responses!(PatchReportErrors {
    400 => "The report ID or the body is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `reports-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The report or instance is unknown (`TALER_EC_MERCHANT_GENERIC_REPORT_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
    501 => "The report generator named in `program_section` is not configured (`TALER_EC_MERCHANT_GENERIC_REPORT_GENERATOR_UNCONFIGURED`).",
});

error_responses!(DeleteReportErrors {
    400 => "The report ID parameter is malformed (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "The token is missing, malformed, unknown or expired (`TALER_EC_GENERIC_UNAUTHORIZED`, `TALER_EC_GENERIC_TOKEN_*`).",
    403 => "The token lacks `reports-write` (`TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT`).",
    404 => "The report or instance is unknown (`TALER_EC_MERCHANT_GENERIC_REPORT_UNKNOWN`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_STORE_FAILED`).",
});

error_responses!(GenerateReportErrors {
    400 => "Malformed JSON or missing fields (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    404 => "The report ID or the report token are unknown (`TALER_EC_MERCHANT_GENERIC_REPORT_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    502 => "The report's data source answered with an error; `code` and `hint` are the data source's.",
});

fn report_unknown(report_id: u64) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericReportUnknown,
        format!("report {report_id} is unknown"),
    )
}

pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Checks a `ReportAddRequest` and turns it into the settings to store.
fn checked_settings(state: &State, body: ReportAddRequest) -> Result<ReportSettings, ApiError> {
    let section = body.program_section.to_ascii_lowercase();
    if !state.config.report_generators.contains_key(&section) {
        return Err(ApiError::new(
            ErrorCode::MerchantGenericReportGeneratorUnconfigured,
            format!("no report generator is configured in section [{section}]"),
        )
        .parameter("program_section"));
    }
    let media = body.mime_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(JSON) {
        return Err(ApiError::malformed(
            "mime_type",
            format!("mime_type: this backend's data sources produce {JSON} only"),
        ));
    }
    let generator = &state.config.report_generators[&section];
    check_target(&generator.targets, &body.target_address)?;
    let data_source = normalized_data_source(&body.data_source).ok_or_else(|| {
        ApiError::malformed(
            "data_source",
            "data_source: must name one of the instance's own GET /private/... endpoints, \
             as a path starting with `/` (no `.` or `..` segments, no fragment)",
        )
    })?;
    let min_frequency_us = state.config.limits.min_report_frequency_secs * 1_000_000;
    let frequency = match body.report_frequency {
        RelativeTime::Micros(us) if (min_frequency_us..=MAX_FREQUENCY_US).contains(&us) => us,
        _ => {
            return Err(ApiError::malformed(
                "report_frequency",
                format!(
                    "report_frequency: must be finite, at least {} s and at most ten years",
                    min_frequency_us / 1_000_000
                ),
            ));
        }
    };
    let shift = match body.report_frequency_shift.unwrap_or(RelativeTime::ZERO) {
        RelativeTime::Micros(us) if us < frequency => us,
        _ => {
            return Err(ApiError::malformed(
                "report_frequency_shift",
                "report_frequency_shift: must be finite and less than report_frequency",
            ));
        }
    };
    Ok(ReportSettings {
        description: body.description,
        program_section: section,
        mime_type: body.mime_type,
        data_source,
        target_address: body.target_address.into(),
        frequency_us: frequency as i64,
        shift_us: shift as i64,
    })
}

/// How a report token is stored: its SHA-256 digest in hex.
fn report_token_digest(token: &str) -> String {
    secret::token_hash(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a delivery goes: the directory target resolved (symlinks included) and
/// checked to be inside the generator's directory, or the address as it is.
fn resolve_target(
    targets: &ReportTargets,
    target: &str,
) -> Result<(String, Option<String>), String> {
    match targets {
        ReportTargets::Pattern(_) => Ok((target.to_owned(), None)),
        ReportTargets::Directory(root) => {
            if !is_relative_target(target) {
                return Err(format!(
                    "target_address `{target}` is not a relative path inside the generator's directory"
                ));
            }
            let root = std::fs::canonicalize(root)
                .map_err(|e| format!("generator directory {}: {e}", root.display()))?;
            let resolved = std::fs::canonicalize(root.join(target))
                .map_err(|e| format!("target `{target}`: {e}"))?;
            if !resolved.starts_with(&root) {
                return Err(format!(
                    "target `{target}` leads out of the generator's directory"
                ));
            }
            Ok((
                resolved.display().to_string(),
                Some(root.display().to_string()),
            ))
        }
    }
}

/// Checks a `target_address` against the generator's target space.
fn check_target(targets: &ReportTargets, target: &str) -> Result<(), ApiError> {
    let ok = match targets {
        ReportTargets::Directory(_) => is_relative_target(target),
        ReportTargets::Pattern(pattern) => pattern.is_match(target),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::malformed(
            "target_address",
            match targets {
                ReportTargets::Directory(_) => {
                    "target_address: must be a relative path inside the generator's directory: \
                     segments of letters, digits, `.`, `_` and `-`, no `..`"
                }
                ReportTargets::Pattern(_) => {
                    "target_address: does not match the generator's TARGET_PATTERN"
                }
            },
        ))
    }
}

/// A relative path of plain segments: nothing a shell, a URL or `..` could widen.
fn is_relative_target(target: &str) -> bool {
    !target.is_empty()
        && target.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

/// The data source percent-decoded and checked: a path of plain segments naming a
/// `GET /private/...` endpoint of the merchant spec, with an optional query.
fn normalized_data_source(data_source: &str) -> Option<String> {
    static PATHS: std::sync::OnceLock<crate::http::AllowedMethods> = std::sync::OnceLock::new();
    if data_source.contains('#') {
        return None;
    }
    let (path, query) = match data_source.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (data_source, None),
    };
    let path = crate::http::percent_decode(path)?;
    let plain = path.starts_with("/private/")
        && path[1..].split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && !segment.contains(['%', '\\'])
                && !segment.chars().any(|c| c.is_whitespace() || c.is_control())
        });
    if !plain || query.is_some_and(|q| q.chars().any(|c| c.is_whitespace() || c.is_control())) {
        return None;
    }
    let paths = PATHS.get_or_init(|| {
        let config = crate::Config::from_ini(Default::default())
            .expect("the default configuration is valid");
        let [(_, merchant), ..] = crate::specs(config);
        crate::http::AllowedMethods::from_spec(&merchant)
    });
    let methods = paths.for_path(&format!("/instances/self{path}"))?;
    methods
        .split(", ")
        .any(|m| m == "GET")
        .then(|| match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        })
}

/// Why a report could not be generated or delivered: `code` is a `TALER_EC_*` number.
#[derive(Debug)]
pub struct RunFailure {
    pub code: u32,
    pub detail: String,
    /// The data source's own error, when it answered with one.
    pub source_error: Option<ErrorDetail>,
}

impl RunFailure {
    fn internal(detail: impl Into<String>) -> RunFailure {
        RunFailure {
            code: ErrorCode::GenericInternalInvariantFailure.number(),
            detail: detail.into(),
            source_error: None,
        }
    }
}

/// Produces a report's content: requests its data source from the instance's own API
/// over HTTP, with the report's mime type, authorized by a short-lived read-only token
/// of the instance that is deleted afterwards.
pub async fn generate(state: &State, report: &Report) -> Result<(String, Vec<u8>), RunFailure> {
    let base = state
        .self_url
        .get()
        .ok_or_else(|| RunFailure::internal("the server's own URL is not known yet"))?;
    let instance = store::instances::find_by_serial(&state.db, report.instance_serial)
        .await
        .map_err(|e| RunFailure::internal(format!("database: {e}")))?
        .ok_or_else(|| RunFailure::internal("the report's instance is gone"))?;
    let token = secret::generate_token();
    let hash = secret::token_hash(&token);
    let now = unix_seconds(std::time::SystemTime::now()) as i64;
    tokens::insert(
        &state.db,
        NewToken {
            instance_serial: report.instance_serial,
            token_hash: hash.clone(),
            scope: "readonly".to_owned(),
            created_at: now,
            expiration: now + FETCH_TIMEOUT.as_secs() as i64 + 60,
            description: Some(format!("report {}", report.report_serial)),
        },
    )
    .await
    .map_err(|e| RunFailure::internal(format!("database: {e}")))?;
    let url = format!(
        "{base}{}instances/{}{}",
        state.config.merchant_base, instance.instance_id, report.data_source
    );
    let response = state
        .http
        .get(&url)
        .header("Accept", &report.mime_type)
        .bearer_auth(&token)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await;
    if let Err(e) = tokens::delete_by_hash(&state.db, &hash).await {
        tracing::warn!(error = %e, "could not delete a report's data-source token");
    }
    let response = response.map_err(|e| RunFailure::internal(format!("requesting {url}: {e}")))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(JSON)
        .to_owned();
    let body = response
        .bytes()
        .await
        .map_err(|e| RunFailure::internal(format!("reading {url}: {e}")))?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<ErrorDetail>(&body).ok();
        return Err(RunFailure {
            code: detail
                .as_ref()
                .map_or(ErrorCode::GenericInternalInvariantFailure.number(), |d| {
                    d.code
                }),
            detail: format!(
                "data source {} answered {status}: {}",
                report.data_source,
                detail
                    .as_ref()
                    .and_then(|d| d.hint.clone())
                    .unwrap_or_default()
            ),
            source_error: detail,
        });
    }
    Ok((content_type, body.to_vec()))
}

/// Hands one generated report to the generator program: the content on standard
/// input, `-d DESCRIPTION -m MIME_TYPE -t TARGET_ADDRESS` as arguments. The program is
/// killed when it exceeds the generator's `TIMEOUT`.
pub async fn transmit(
    generator: &ReportGenerator,
    report: &Report,
    content: &[u8],
) -> Result<(), RunFailure> {
    let (target, root) =
        resolve_target(&generator.targets, &report.target_address).map_err(RunFailure::internal)?;
    let mut command = tokio::process::Command::new(&generator.binary);
    if let Some(root) = root {
        command.env("TALER_OPENAPI_REPORT_ROOT", root);
    }
    let mut child = command
        .arg("-d")
        .arg(&report.description)
        .arg("-m")
        .arg(&report.mime_type)
        .arg("-t")
        .arg(&target)
        .env("TALER_MERCHANT_REPORT_ID", report.report_serial.to_string())
        .env(
            "TALER_MERCHANT_REPORT_DUE",
            (report.next_transmission_us / 1_000_000).to_string(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| RunFailure::internal(format!("cannot start {}: {e}", generator.binary)))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let run = async {
        // A program that exits without reading everything is judged by its status.
        let _ = stdin.write_all(content).await;
        drop(stdin);
        let mut errors = Vec::new();
        let _ = (&mut stderr).take(4096).read_to_end(&mut errors).await;
        let status = child.wait().await;
        (status, errors)
    };
    match tokio::time::timeout(Duration::from_secs(generator.timeout_secs), run).await {
        Err(_) => Err(RunFailure::internal(format!(
            "{} did not finish within {} s and was killed",
            generator.binary, generator.timeout_secs
        ))),
        Ok((Err(e), _)) => Err(RunFailure::internal(format!("{}: {e}", generator.binary))),
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), errors)) => Err(RunFailure::internal(format!(
            "{} failed ({status}): {}",
            generator.binary,
            String::from_utf8_lossy(&errors).trim()
        ))),
    }
}

fn detail_response(r: Report) -> ReportDetailResponse {
    ReportDetailResponse {
        report_serial: r.report_serial as u64,
        report_frequency: RelativeTime::Micros(r.frequency_us as u64),
        report_frequency_shift: RelativeTime::Micros(r.shift_us as u64),
        next_transmission: Timestamp::Seconds((r.next_transmission_us / 1_000_000) as u64),
        last_error_code: r.last_error_code.map(|c| c as u32),
        last_error_detail: r.last_error_detail,
        description: r.description,
        program_section: r.program_section,
        mime_type: r.mime_type,
        data_source: r.data_source,
        target_address: Text::from_stored(r.target_address),
    }
}

pub struct ReportsApi(pub State);

impl ReportsApi {
    async fn authorize_report(
        &self,
        instance: &str,
        token: &MerchantToken,
        permission: Permission,
        report_id: u64,
    ) -> Result<(i64, i64), ApiError> {
        let (access, serial) =
            auth::authorize_serial(&self.0, instance, token, permission, report_id, || {
                report_unknown(report_id)
            })
            .await?;
        Ok((access.instance.instance_serial, serial))
    }
}

#[OpenApi(tag = "ApiTags::Reports")]
impl ReportsApi {
    /// Schedule a periodic report
    ///
    /// Due times are the multiples of `report_frequency` (from the epoch) plus the
    /// shift. At each, the server requests `data_source` from the instance's API and
    /// hands the result to the configured generator program. Requires `reports-write`.
    #[oai(
        path = "/instances/:instance/private/reports",
        method = "post",
        operation_id = "merchant_post_private_reports"
    )]
    async fn post_report(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        body: JsonBody<ReportAddRequest>,
    ) -> Result<ReportAdded, PostReportErrors> {
        let access = auth::authorize(&self.0, &instance, &token, REPORTS_WRITE).await?;
        let settings = checked_settings(&self.0, body.0)?;
        let count = reports::count_of_instance(&self.0.db, access.instance.instance_serial)
            .await
            .map_err(ApiError::db_fetch)?;
        if count >= MAX_REPORTS_PER_INSTANCE {
            return Err(ApiError::new(
                ErrorCode::GenericForbidden,
                format!("an instance has at most {MAX_REPORTS_PER_INSTANCE} reports"),
            )
            .into());
        }
        // Stored as a digest, like every other secret.
        let report_token = report_token_digest(&keys::encode(&secret::random_bytes::<32>()));
        let serial = reports::create(
            &self.0.db,
            access.instance.instance_serial,
            settings,
            report_token,
            now_us(),
        )
        .await
        .map_err(ApiError::db_store)?;
        Ok(ReportAdded::Ok(Json(ReportAddedResponse {
            report_serial_id: serial as u64,
        })))
    }

    /// List periodic reports
    ///
    /// Row-id pagination by report serial: `limit` > 0 ascending, < 0 descending
    /// (default -20, at most 1024), `offset` the serial to start after. Requires
    /// `reports-read`.
    #[oai(
        path = "/instances/:instance/private/reports",
        method = "get",
        operation_id = "merchant_get_private_reports"
    )]
    async fn list_reports(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// At most return the given number of results; negative for descending order.
        limit: Query<Option<PageLimit>>,
        /// Starting serial for pagination (exclusive).
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<ReportsListed, ListReportsErrors> {
        let access = auth::authorize(&self.0, &instance, &token, REPORTS_READ).await?;
        let page = Page::new(limit.0, offset.0)?;
        let reports = reports::list(&self.0.db, access.instance.instance_serial, page)
            .await
            .map_err(ApiError::db_fetch)?
            .into_iter()
            .map(|r| ReportEntry {
                report_serial: r.report_serial as u64,
                description: r.description,
                report_frequency: RelativeTime::Micros(r.frequency_us as u64),
            })
            .collect();
        Ok(ReportsListed::Ok(Json(ReportsSummaryResponse { reports })))
    }

    /// Get a periodic report
    ///
    /// Settings, the next transmission and the last error, if the latest run failed.
    /// Requires `reports-read`.
    #[oai(
        path = "/instances/:instance/private/reports/:report_id",
        method = "get",
        operation_id = "merchant_get_private_report"
    )]
    async fn get_report(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The report's serial (`report_serial_id`).
        report_id: Path<u64>,
    ) -> Result<ReportFound, GetReportErrors> {
        let unknown = || report_unknown(report_id.0);
        let serial = i64::try_from(report_id.0).map_err(|_| unknown())?;
        let (_, report, _) = auth::authorize_found(
            &self.0,
            &token,
            REPORTS_READ,
            async |hash| {
                reports::find_with_access(&self.0.db, &instance, Some(&hash), serial).await
            },
            unknown,
        )
        .await?;
        Ok(ReportFound::Ok(Json(detail_response(report))))
    }

    /// Modify a periodic report
    ///
    /// Replaces every setting (a `ReportPatchRequest`) and restarts the
    /// schedule. Requires `reports-write`.
    #[oai(
        path = "/instances/:instance/private/reports/:report_id",
        method = "patch",
        operation_id = "merchant_patch_private_report"
    )]
    async fn patch_report(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The report's serial (`report_serial_id`).
        report_id: Path<u64>,
        body: JsonBody<ReportPatchRequest>,
    ) -> Result<NoContent, PatchReportErrors> {
        let (instance_serial, serial) = self
            .authorize_report(&instance, &token, REPORTS_WRITE, report_id.0)
            .await?;
        // The page's order: an unknown report is 404 before any problem of the body.
        reports::find(&self.0.db, instance_serial, serial)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(|| report_unknown(report_id.0))?;
        let settings = checked_settings(&self.0, body.0.into())?;
        if reports::update(&self.0.db, instance_serial, serial, settings, now_us())
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(report_unknown(report_id.0).into())
        }
    }

    /// Delete a periodic report
    ///
    /// Requires `reports-write`.
    #[oai(
        path = "/instances/:instance/private/reports/:report_id",
        method = "delete",
        operation_id = "merchant_delete_private_report"
    )]
    async fn delete_report(
        &self,
        token: MerchantToken,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The report's serial (`report_serial_id`).
        report_id: Path<u64>,
    ) -> Result<NoContent, DeleteReportErrors> {
        let (instance_serial, serial) = self
            .authorize_report(&instance, &token, REPORTS_WRITE, report_id.0)
            .await?;
        if reports::delete(&self.0.db, instance_serial, serial)
            .await
            .map_err(ApiError::db_store)?
        {
            Ok(NoContent::Done)
        } else {
            Err(report_unknown(report_id.0).into())
        }
    }

    /// Generate a report's content
    ///
    /// Unauthenticated: the `report_token` authorizes the request. Returns what the
    /// report's data source produces, with its content type; Taler's external
    /// `taler-merchant-report-generator` uses this, and so does this server's scheduler.
    #[oai(
        path = "/instances/:instance/reports/:report_id",
        method = "post",
        operation_id = "merchant_post_report"
    )]
    async fn generate_report(
        &self,
        /// Instance id (`admin` for the default instance).
        instance: Path<String>,
        /// The report's serial (`report_serial_id`).
        report_id: Path<u64>,
        body: JsonBody<ReportGenerationRequest>,
    ) -> Result<ReportGenerated, GenerateReportErrors> {
        let unknown = || report_unknown(report_id.0);
        let instance = auth::instance(&self.0, &instance)
            .await
            .map_err(|e| auth::instance_unknown_as(e, unknown))?;
        let serial = i64::try_from(report_id.0).map_err(|_| unknown())?;
        let report = reports::find(&self.0.db, instance.instance_serial, serial)
            .await
            .map_err(ApiError::db_fetch)?
            .ok_or_else(unknown)?;
        let presented = report_token_digest(&body.report_token);
        if !secret::constant_time_eq(presented.as_bytes(), report.report_token.as_bytes()) {
            return Err(unknown().into());
        }
        match generate(&self.0, &report).await {
            Ok((_, content)) => match serde_json::from_slice(&content) {
                Ok(value) => Ok(ReportGenerated::Ok(Json(value))),
                Err(e) => Err(ApiError::new(
                    ErrorCode::GenericDbFetchFailed,
                    format!("the data source did not produce JSON: {e}"),
                )
                .into()),
            },
            Err(RunFailure {
                source_error: Some(detail),
                ..
            }) => Err(ApiError::relay(poem::http::StatusCode::BAD_GATEWAY, detail).into()),
            Err(failure) => {
                tracing::error!(report = report.report_serial, detail = %failure.detail, "report generation failed");
                Err(ApiError::new(ErrorCode::GenericDbFetchFailed, failure.detail).into())
            }
        }
    }
}
