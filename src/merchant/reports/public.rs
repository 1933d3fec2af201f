//! `POST [/instances/$INSTANCE]/reports/$REPORT_ID`: a report's content for whoever holds
//! its `report_token` (Taler's external report generator).

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::taler::text::{Base32Crock32, Text};
use crate::{
    error_responses,
    http::JsonBody,
    merchant::{
        instances::auth::{self},
        reports::run::{RunFailure, generate, report_token_digest, report_unknown},
        tags::ApiTags,
    },
    state::State,
    store::reports::{self},
    taler::{ApiError, ErrorCode, secret},
};

/// `ReportGenerationRequest`.
#[derive(Object)]
pub struct ReportGenerationRequest {
    /// Report token authorizing the report generation (a `ShortHashCode`: 52
    /// Crockford base32 characters).
    pub report_token: Text<Base32Crock32>,
}

#[derive(ApiResponse)]
pub enum ReportGenerated {
    /// The report's content, as its data source produced it. The content type is the
    /// report's `mime_type`, which this backend's data sources limit to
    /// `application/json`.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
}

error_responses!(GenerateReportErrors {
    400 => "Malformed JSON or missing fields (`TALER_EC_GENERIC_PARAMETER_MALFORMED`, `TALER_EC_GENERIC_PARAMETER_MISSING`, `TALER_EC_GENERIC_JSON_INVALID`).",
    404 => "The report ID or the report token are unknown (`TALER_EC_MERCHANT_GENERIC_REPORT_UNKNOWN`).",
    413 => "The uploaded body is too long (`TALER_EC_GENERIC_UPLOAD_EXCEEDS_LIMIT`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
    502 => "The report's data source answered with an error; `code` and `hint` are the data source's.",
});

pub struct GenerateReportApi(pub State);

#[OpenApi(tag = "ApiTags::Reports")]
impl GenerateReportApi {
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
