//! `GET /monitor`: the administrator's statistics of Taler transfers into and out of
//! exchanges per hour, day, month or year (UTC), as libeufin-bank serves them. This
//! bank has no conversion, so the answer is always `no-conversions`.

use migration::calendar::{civil_from_days, days_from_civil, timeframe_starts};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Query, payload::Json};

use crate::{
    bank::{
        auth::{self, BankCredentials, Need},
        ledger::{ADMIN_ACCOUNT, amount_of},
        tags::ApiTags,
    },
    error_responses,
    state::State,
    store::bank::stats,
    taler::{Amount, ApiError, Timestamp},
};

/// A monitoring timeframe (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Timeframe {
    Hour,
    Day,
    Month,
    Year,
}

impl Timeframe {
    fn name(self) -> &'static str {
        match self {
            Timeframe::Hour => "hour",
            Timeframe::Day => "day",
            Timeframe::Month => "month",
            Timeframe::Year => "year",
        }
    }
}

/// `MonitorNoConversion`.
#[derive(Object)]
pub struct MonitorNoConversion {
    /// Always `no-conversions`: this bank converts no currency.
    #[oai(rename = "type")]
    pub kind: String,
    /// Payments to a Taler exchange by another account.
    #[oai(rename = "talerInCount")]
    pub taler_in_count: u64,
    /// Their volume.
    #[oai(rename = "talerInVolume")]
    pub taler_in_volume: Amount,
    /// Payments by a Taler exchange to another account.
    #[oai(rename = "talerOutCount")]
    pub taler_out_count: u64,
    /// Their volume.
    #[oai(rename = "talerOutVolume")]
    pub taler_out_volume: Amount,
}

#[derive(ApiResponse)]
pub enum Monitored {
    /// The figures of the timeframe.
    #[oai(status = 200)]
    Ok(Json<MonitorNoConversion>),
}

error_responses!(MonitorErrors {
    400 => "A query parameter is malformed, or `which` does not fit the timeframe, or both `which` and `date_s` are given (`TALER_EC_GENERIC_PARAMETER_MALFORMED`).",
    401 => "Wrong or missing credentials, or not the administrator's (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    403 => "The token's scope does not allow it (`TALER_EC_GENERIC_FORBIDDEN`).",
    429 => "Too many failed logins: wait `Retry-After` seconds (`TALER_EC_GENERIC_UNAUTHORIZED`).",
    500 => "Internal failure (`TALER_EC_GENERIC_DB_FETCH_FAILED`).",
});

/// The moment whose timeframe is asked for: `date_s`, or now with the deprecated
/// `which` in place of its hour, day of the month, month or year.
fn moment(timeframe: Timeframe, date_s: Option<i64>, which: Option<i64>) -> Result<i64, ApiError> {
    let now = Timestamp::now().to_db();
    let bad = |hint: String| ApiError::malformed("which", hint);
    match (date_s, which) {
        (Some(_), Some(_)) => Err(ApiError::malformed(
            "date_s",
            "give either `date_s` or the deprecated `which`, not both",
        )),
        (Some(d), None) => Ok(d),
        (None, None) => Ok(now),
        (None, Some(w)) => {
            let days = now.div_euclid(86_400);
            let (year, month, _) = civil_from_days(days);
            match timeframe {
                Timeframe::Hour if (0..=23).contains(&w) => Ok(days * 86_400 + w * 3_600),
                Timeframe::Hour => Err(bad("for `hour`, `which` is 0 to 23".into())),
                Timeframe::Day => {
                    let first = days_from_civil(year, month, 1);
                    let last =
                        days_from_civil(year + i64::from(month == 12), month % 12 + 1, 1) - first;
                    if (1..=last).contains(&w) {
                        Ok((first + w - 1) * 86_400)
                    } else {
                        Err(bad(format!("for `day`, `which` is 1 to {last}")))
                    }
                }
                Timeframe::Month if (1..=12).contains(&w) => {
                    Ok(days_from_civil(year, w, 1) * 86_400)
                }
                Timeframe::Month => Err(bad("for `month`, `which` is 1 to 12".into())),
                Timeframe::Year if (1..=9999).contains(&w) => Ok(days_from_civil(w, 1, 1) * 86_400),
                Timeframe::Year => Err(bad("for `year`, `which` is 1 to 9999".into())),
            }
        }
    }
}

pub struct MonitorApi(pub State);

#[OpenApi(tag = "ApiTags::Accounts")]
impl MonitorApi {
    /// Monitor Taler transfers
    ///
    /// Counts and volumes of the transfers into exchanges (reserve or KYC key as
    /// subject) and out of them (Wire Gateway) in the hour, day, month or year (UTC)
    /// holding `date_s` (default now). The administrator only.
    #[oai(path = "/monitor", method = "get", operation_id = "bank_get_monitor")]
    async fn monitor(
        &self,
        mut credentials: BankCredentials,
        /// `hour` (default), `day`, `month` or `year`.
        timeframe: Query<Option<Timeframe>>,
        /// A moment of the timeframe, in seconds after the epoch (default now; at most
        /// the end of the year 9999).
        #[oai(validator(minimum(value = "0"), maximum(value = "253402300799")))]
        date_s: Query<Option<i64>>,
        /// Deprecated: the hour (0-23), day of this month, month (1-12) or year.
        #[oai(deprecated)]
        which: Query<Option<i64>>,
    ) -> Result<Monitored, MonitorErrors> {
        auth::authorize(&self.0, ADMIN_ACCOUNT, &mut credentials, Need::Monitor).await?;
        let timeframe = timeframe.0.unwrap_or(Timeframe::Hour);
        let at = moment(timeframe, date_s.0, which.0)?;
        let start = timeframe_starts(at)
            .into_iter()
            .find(|(t, _)| *t == timeframe.name())
            .map(|(_, s)| s)
            .unwrap_or(at);
        let row = stats::find(&self.0.db, timeframe.name(), start)
            .await
            .map_err(ApiError::db_fetch)?;
        let currency = &self.0.config.currency;
        let volume = |value: i64, frac: i64| {
            amount_of(currency, i128::from(value) * 100_000_000 + i128::from(frac))
        };
        let (in_count, in_volume, out_count, out_volume) = match row {
            Some(r) => (
                r.taler_in_count as u64,
                volume(r.taler_in_value, r.taler_in_frac),
                r.taler_out_count as u64,
                volume(r.taler_out_value, r.taler_out_frac),
            ),
            None => (0, volume(0, 0), 0, volume(0, 0)),
        };
        Ok(Monitored::Ok(Json(MonitorNoConversion {
            kind: "no-conversions".to_owned(),
            taler_in_count: in_count,
            taler_in_volume: in_volume,
            taler_out_count: out_count,
            taler_out_volume: out_volume,
        })))
    }
}
