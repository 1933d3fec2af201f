//! Running a report: generating its content from its data source through the
//! instance's own API, and transmitting it with the configured generator program.
//! The public generation operation and the scheduler both use it.

use std::{process::Stdio, time::Duration};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    config::ReportGenerator,
    merchant::reports::targets::resolve_target,
    state::State,
    store::{
        self,
        reports::Report,
        tokens::{self, NewToken},
    },
    taler::{ApiError, ErrorCode, ErrorDetail, secret, time::unix_seconds},
};

/// The only content type this backend's data sources produce.
pub const JSON: &str = "application/json";
/// How long fetching the data source may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

pub fn report_unknown(report_id: u64) -> ApiError {
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

/// How a report token is stored: its SHA-256 digest in hex.
pub fn report_token_digest(token: &str) -> String {
    secret::token_hash(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    pub(super) fn internal(detail: impl Into<String>) -> RunFailure {
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
/// input, `-d DESCRIPTION -m MIME_TYPE -t TARGET_ADDRESS` as arguments (for a
/// directory generator, the target resolved inside the instance's own room, which is
/// also the `TALER_OPENAPI_REPORT_ROOT` the program gets). The program is
/// killed when it exceeds the generator's `TIMEOUT`.
pub async fn transmit(
    generator: &ReportGenerator,
    instance_id: &str,
    report: &Report,
    content: &[u8],
) -> Result<(), RunFailure> {
    let (target, root) = resolve_target(&generator.targets, instance_id, &report.target_address)
        .map_err(RunFailure::internal)?;
    let mut command = tokio::process::Command::new(&generator.binary);
    if let Some(root) = root {
        command.env("TALER_OPENAPI_REPORT_ROOT", root);
    }
    die_with_server(&mut command);
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

/// The program is killed when the server dies, however it dies: `kill_on_drop` covers
/// a run that is cut, but a server killed outright (SIGKILL, a crash) runs no drop, and
/// a generator still running would deliver while another server, once the lease has
/// expired, delivers the same report again. (The signal follows the thread that
/// started the program: a runtime worker, which lives as long as the server.)
#[cfg(target_os = "linux")]
fn die_with_server(command: &mut tokio::process::Command) {
    let server = std::process::id();
    // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The server may have died before the prctl.
            if libc::getppid() as u32 != server {
                return Err(std::io::Error::other("the server is gone"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_server(_command: &mut tokio::process::Command) {}
