//! Periodic reports: settings, schedule, and the claim/finish protocol that lets
//! several servers share one database without sending a due report twice.

use entities::merchant_reports::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, Set, Statement, sea_query::Expr,
};

use crate::taler::pagination::Page;

pub type Report = merchant_reports::Model;

/// What a client sets on a report.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub description: String,
    pub program_section: String,
    pub mime_type: String,
    pub data_source: String,
    pub target_address: String,
    pub frequency_us: i64,
    pub shift_us: i64,
}

/// The first due time after `now_us`: the next multiple of the frequency (counted
/// from the epoch) plus the shift, so a daily report with a shift of 8 hours runs at
/// 08:00 UTC every day.
pub fn next_due(frequency_us: i64, shift_us: i64, now_us: i64) -> i64 {
    let periods = (now_us - shift_us).div_euclid(frequency_us) + 1;
    periods * frequency_us + shift_us
}

pub async fn create(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    settings: ReportSettings,
    report_token: String,
    now_us: i64,
) -> Result<i64, DbErr> {
    let row = ActiveModel {
        instance_serial: Set(instance_serial),
        next_transmission_us: Set(next_due(settings.frequency_us, settings.shift_us, now_us)),
        description: Set(settings.description),
        program_section: Set(settings.program_section),
        mime_type: Set(settings.mime_type),
        data_source: Set(settings.data_source),
        target_address: Set(settings.target_address),
        frequency_us: Set(settings.frequency_us),
        shift_us: Set(settings.shift_us),
        report_token: Set(report_token),
        failures: Set(0),
        ..Default::default()
    };
    Ok(row.insert(db).await?.report_serial)
}

/// Replaces the settings and restarts the schedule; a run in progress is forgotten.
pub async fn update(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    report_serial: i64,
    settings: ReportSettings,
    now_us: i64,
) -> Result<bool, DbErr> {
    let next = next_due(settings.frequency_us, settings.shift_us, now_us);
    let result = Entity::update_many()
        .col_expr(Column::Description, settings.description.into())
        .col_expr(Column::ProgramSection, settings.program_section.into())
        .col_expr(Column::MimeType, settings.mime_type.into())
        .col_expr(Column::DataSource, settings.data_source.into())
        .col_expr(Column::TargetAddress, settings.target_address.into())
        .col_expr(Column::FrequencyUs, settings.frequency_us.into())
        .col_expr(Column::ShiftUs, settings.shift_us.into())
        .col_expr(Column::NextTransmissionUs, next.into())
        .col_expr(Column::Failures, 0.into())
        .col_expr(Column::LeaseUntilUs, Option::<i64>::None.into())
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::ReportSerial.eq(report_serial))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn list(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    page: Page,
) -> Result<Vec<Report>, DbErr> {
    let query = Entity::find();
    super::paged_within(
        query,
        Column::InstanceSerial,
        instance_serial,
        Column::ReportSerial,
        page,
    )
    .all(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    report_serial: i64,
) -> Result<Option<Report>, DbErr> {
    Entity::find_by_id(report_serial)
        .filter(Column::InstanceSerial.eq(instance_serial))
        .one(db)
        .await
}

/// The report with the instance and the presented token's row, in one query (for an
/// authorized read; see `store::access`).
pub async fn find_with_access(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    report_serial: i64,
) -> Result<Option<super::access::Found<Report>>, DbErr> {
    super::access::fetch::<Entity>(
        db,
        instance_id,
        token_hash,
        Column::InstanceSerial,
        Column::ReportSerial,
        report_serial,
        |_| {},
    )
    .await
}

/// Frees the reports held by claim `lease_id` (their server is stopping).
pub async fn release_lease(db: &impl ConnectionTrait, lease_id: i64) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LeaseUntilUs, Expr::value(Option::<i64>::None))
        .col_expr(Column::LeaseId, Expr::value(Option::<i64>::None))
        .filter(Column::LeaseId.eq(lease_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Moves the expiry of the reports claim `lease_id` still holds to `lease_until_us`
/// (the run is alive); with `report_serial`, of that report alone. How many it still
/// holds: none when another server took them over after the lease expired.
pub async fn renew_lease(
    db: &impl ConnectionTrait,
    lease_id: i64,
    report_serial: Option<i64>,
    lease_until_us: i64,
) -> Result<u64, DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::LeaseUntilUs, Expr::value(Some(lease_until_us)))
        .filter(Column::LeaseId.eq(lease_id));
    if let Some(serial) = report_serial {
        update = update.filter(Column::ReportSerial.eq(serial));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// How many reports an instance has (for the per-instance cap).
pub async fn count_of_instance(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .count(db)
        .await
}

/// Deletes every report of an instance (the instance is being deleted).
pub async fn delete_all_of_instance(
    db: &impl ConnectionTrait,
    instance_serial: i64,
) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn delete(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    report_serial: i64,
) -> Result<bool, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::InstanceSerial.eq(instance_serial))
        .filter(Column::ReportSerial.eq(report_serial))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Takes up to `limit` due reports that no live server holds, as claim `lease_id`
/// until `lease_until_us`. One statement: on PostgreSQL the rows are locked `FOR
/// UPDATE SKIP LOCKED`, so concurrent servers take disjoint sets; SQLite runs one
/// writer at a time.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now_us: i64,
    lease_id: i64,
    lease_until_us: i64,
    limit: u32,
) -> Result<Vec<Report>, DbErr> {
    let backend = db.get_database_backend();
    let (lock, p) = match backend {
        DatabaseBackend::Postgres => ("FOR UPDATE SKIP LOCKED", ["$1", "$2", "$3", "$4"]),
        _ => ("", ["?", "?", "?", "?"]),
    };
    let sql = format!(
        "UPDATE merchant_reports SET lease_id = {id}, lease_until_us = {lease} \
         WHERE report_serial IN (\
           SELECT report_serial FROM merchant_reports \
           WHERE next_transmission_us <= {now} \
             AND (lease_until_us IS NULL OR lease_until_us < {now2}) \
           ORDER BY next_transmission_us LIMIT {limit} {lock}) \
         RETURNING *",
        id = p[0],
        lease = p[1],
        now = p[2],
        now2 = p[3],
    );
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            lease_id.into(),
            lease_until_us.into(),
            now_us.into(),
            now_us.into(),
        ],
    );
    Report::find_by_statement(stmt).all(db).await
}

/// The outcome of one run of a report.
pub enum RunOutcome {
    Sent,
    Failed { code: i32, detail: String },
}

/// Records a run and schedules the next one, if claim `lease_id` still holds the
/// report (a PATCH or DELETE meanwhile wins). Failures retry with exponential backoff
/// (2 s, 4 s, ... at most an hour), never later than the next regular due time.
pub async fn finish(
    db: &impl ConnectionTrait,
    report: &Report,
    lease_id: i64,
    outcome: RunOutcome,
    now_us: i64,
) -> Result<(), DbErr> {
    let regular = next_due(report.frequency_us, report.shift_us, now_us);
    let mut update = Entity::update_many()
        .col_expr(Column::LeaseUntilUs, Option::<i64>::None.into())
        .col_expr(Column::LeaseId, Option::<i64>::None.into());
    update = match outcome {
        RunOutcome::Sent => update
            .col_expr(Column::NextTransmissionUs, regular.into())
            .col_expr(Column::LastTransmissionUs, Some(now_us).into())
            .col_expr(Column::LastErrorCode, Option::<i32>::None.into())
            .col_expr(Column::LastErrorDetail, Option::<String>::None.into())
            .col_expr(Column::Failures, 0.into()),
        RunOutcome::Failed { code, detail } => {
            let failures = report.failures.saturating_add(1);
            let backoff_us = 1_000_000i64 << failures.clamp(1, 11);
            let retry = (now_us + backoff_us.min(3_600_000_000)).min(regular);
            update
                .col_expr(Column::NextTransmissionUs, retry.into())
                .col_expr(Column::LastErrorCode, Some(code).into())
                .col_expr(Column::LastErrorDetail, Some(detail).into())
                .col_expr(Column::Failures, failures.into())
        }
    };
    update
        .filter(Column::ReportSerial.eq(report.report_serial))
        .filter(Column::LeaseId.eq(lease_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::next_due;

    #[test]
    fn due_times_follow_frequency_and_shift() {
        let s = 1_000_000;
        assert_eq!(next_due(10 * s, 0, 0), 10 * s);
        assert_eq!(next_due(10 * s, 0, 10 * s), 20 * s);
        assert_eq!(next_due(10 * s, 3 * s, 12 * s), 13 * s);
        assert_eq!(next_due(10 * s, 3 * s, 13 * s), 23 * s);
        assert_eq!(next_due(86_400 * s, 8 * 3600 * s, 0), 8 * 3600 * s);
    }
}
