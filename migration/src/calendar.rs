//! UTC calendar arithmetic shared by a migration (backfilling `bank_stats`) and the
//! server (counting each transfer into `bank_stats`, reading `GET /monitor`), so that
//! both agree on where an hour, day, month or year starts. Howard Hinnant's
//! civil-from-days and days-from-civil.

/// `(year, month 1-12, day 1-31)` of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days from 1970-01-01 to `year-month-day`.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The start (seconds, UTC) of the hour, day, month and year holding `secs`.
pub fn timeframe_starts(secs: i64) -> [(&'static str, i64); 4] {
    let days = secs.div_euclid(86_400);
    let (year, month, _) = civil_from_days(days);
    [
        ("hour", secs.div_euclid(3_600) * 3_600),
        ("day", days * 86_400),
        ("month", days_from_civil(year, month, 1) * 86_400),
        ("year", days_from_civil(year, 1, 1) * 86_400),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_of_hours_days_months_and_years() {
        // 2024-02-29T13:45:10Z.
        let t = 1_709_214_310;
        assert_eq!(
            timeframe_starts(t),
            [
                ("hour", 1_709_211_600),
                ("day", 1_709_164_800),
                ("month", 1_706_745_600),
                ("year", 1_704_067_200),
            ]
        );
        assert_eq!(timeframe_starts(0)[3], ("year", 0));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }
}
