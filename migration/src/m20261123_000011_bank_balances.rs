//! Bank balances and debit thresholds. A balance is an amount and whether it is a
//! debt (`has_debt`), as libeufin-bank keeps it; every transfer changes two balances
//! in its own transaction. Transfers recorded before balances existed are replayed
//! into them here, so balances and histories agree from the start.

use std::collections::HashMap;

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum BankAccounts {
    Table,
    BalanceValue,
    BalanceFrac,
    HasDebt,
    DebitThresholdValue,
    DebitThresholdFrac,
}

const FRACTION_BASE: i128 = 100_000_000;

/// `CURRENCY:VALUE[.FRACTION]` in units of 10^-8 (as the server stores amounts).
fn units(text: &str) -> Result<i128, DbErr> {
    let bad = || DbErr::Custom(format!("stored amount `{text}` is malformed"));
    let (_, number) = text.split_once(':').ok_or_else(bad)?;
    let (value, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.len() > 8 {
        return Err(bad());
    }
    let value: i128 = value.parse().map_err(|_| bad())?;
    let frac: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<8}").parse().map_err(|_| bad())?
    };
    Ok(value * FRACTION_BASE + frac)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, big) in [
            (BankAccounts::BalanceValue, true),
            (BankAccounts::BalanceFrac, false),
            (BankAccounts::DebitThresholdValue, true),
            (BankAccounts::DebitThresholdFrac, false),
        ] {
            let mut def = ColumnDef::new(column);
            if big {
                def.big_integer();
            } else {
                def.integer();
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(BankAccounts::Table)
                        .add_column(def.not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(BankAccounts::Table)
                    .add_column(
                        ColumnDef::new(BankAccounts::HasDebt)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;

        // Replay the transfers recorded so far.
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT debtor_account_id, creditor_account_id, amount, credit_fee \
                 FROM bank_transactions",
            ))
            .await?;
        let mut balances: HashMap<i64, i128> = HashMap::new();
        for row in rows {
            let debtor: i64 = row.try_get("", "debtor_account_id")?;
            let creditor: i64 = row.try_get("", "creditor_account_id")?;
            let amount = units(&row.try_get::<String>("", "amount")?)?;
            let fee = match row.try_get::<Option<String>>("", "credit_fee")? {
                Some(f) => units(&f)?,
                None => 0,
            };
            *balances.entry(debtor).or_default() -= amount;
            *balances.entry(creditor).or_default() += amount - fee;
        }
        for (account, balance) in balances {
            let magnitude = balance.unsigned_abs() as i128;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DatabaseBackend::Postgres => {
                        "UPDATE bank_accounts SET balance_value = $1, balance_frac = $2, \
                         has_debt = $3 WHERE account_id = $4"
                    }
                    _ => {
                        "UPDATE bank_accounts SET balance_value = ?, balance_frac = ?, \
                         has_debt = ? WHERE account_id = ?"
                    }
                },
                [
                    ((magnitude / FRACTION_BASE) as i64).into(),
                    ((magnitude % FRACTION_BASE) as i32).into(),
                    (balance < 0).into(),
                    account.into(),
                ],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            BankAccounts::BalanceValue,
            BankAccounts::BalanceFrac,
            BankAccounts::HasDebt,
            BankAccounts::DebitThresholdValue,
            BankAccounts::DebitThresholdFrac,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BankAccounts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
