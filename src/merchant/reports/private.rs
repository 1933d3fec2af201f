//! The merchant's periodic reports: `[/instances/$INSTANCE]/private/reports[/$REPORT_ID]`.

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::taler::text::{NotBlank, Text};
use crate::{
    error_responses,
    http::{JsonBody, NoContent},
    merchant::{
        instances::auth::{self, MerchantToken, Permission},
        reports::{
            run::{JSON, now_us, report_token_digest, report_unknown},
            targets::check_target,
        },
        tags::ApiTags,
    },
    state::State,
    store::reports::{self, Report, ReportSettings},
    taler::{
        ApiError, ErrorCode, RelativeTime, Timestamp, keys,
        pagination::{Page, PageLimit},
        secret,
    },
};

const REPORTS_READ: Permission = "reports-read";
const REPORTS_WRITE: Permission = "reports-write";

/// Reports one instance may have at most.
pub const MAX_REPORTS_PER_INSTANCE: u64 = 64;
/// Longest report frequency (about ten years).
const MAX_FREQUENCY_US: u64 = 10 * 365 * 86_400 * 1_000_000;
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
    let data_source = normalized_data_source(state, &body.data_source).ok_or_else(|| {
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

/// The data source percent-decoded and checked: a path of plain segments naming a
/// `GET /private/...` endpoint of the merchant spec, with an optional query.
fn normalized_data_source(state: &State, data_source: &str) -> Option<String> {
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
    // Known once the application is built (`merchant::endpoint`), before any request.
    let paths = state.merchant_paths.get()?;
    let methods = paths.for_path(&format!("/instances/self{path}"))?;
    methods
        .split(", ")
        .any(|m| m == "GET")
        .then(|| match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        })
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
}
