//! Money pots: named totals per instance, in any number of currencies.

use std::collections::BTreeMap;

use entities::merchant_money_pots::{self, Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr};

use crate::taler::{Amount, pagination::Page};

pub type Pot = merchant_money_pots::Model;

/// The amounts in a pot: at most one per currency, kept sorted by currency, so two
/// equal totals always have the same canonical text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals(BTreeMap<String, Amount>);

impl Totals {
    /// Totals from a client's list; `Err` names a currency given twice.
    pub fn from_amounts(amounts: Vec<Amount>) -> Result<Totals, String> {
        let mut map = BTreeMap::new();
        for amount in amounts {
            let currency = amount.currency().to_owned();
            if map.insert(currency.clone(), amount).is_some() {
                return Err(currency);
            }
        }
        Ok(Totals(map))
    }

    /// The amounts in canonical order (by currency).
    pub fn amounts(&self) -> Vec<Amount> {
        self.0.values().cloned().collect()
    }

    pub fn to_db(&self) -> String {
        let parts: Vec<String> = self.0.values().map(Amount::to_string).collect();
        parts.join(",")
    }

    pub fn from_db(text: &str) -> Result<Totals, DbErr> {
        let amounts = text
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Amount>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DbErr::Custom(format!("stored pot total is invalid: {e}")))?;
        Totals::from_amounts(amounts)
            .map_err(|c| DbErr::Custom(format!("stored pot totals repeat currency {c}")))
    }
}

/// The insert of a new pot, empty, for `auth::authorize_insert` (a name taken
/// inserts nothing).
pub fn insert(pot_name: String, description: String) -> super::access::Insert<Entity> {
    super::access::Insert {
        instance_column: Column::InstanceSerial,
        columns: vec![Column::PotName, Column::Description, Column::PotTotals],
        values: vec![
            pot_name.into(),
            description.into(),
            Totals::default().to_db().into(),
        ],
        key: Column::PotSerial,
    }
}

/// One page of the instance's pots, in serial order.
pub async fn list(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    page: Page,
) -> Result<Vec<Pot>, DbErr> {
    let query = Entity::find();
    super::paged_within(
        query,
        Column::InstanceSerial,
        instance_serial,
        Column::PotSerial,
        page,
    )
    .all(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    pot_serial: i64,
) -> Result<Option<Pot>, DbErr> {
    Entity::find_by_id(pot_serial)
        .filter(Column::InstanceSerial.eq(instance_serial))
        .one(db)
        .await
}

/// The pot with the instance and the presented token's row, in one query (for an
/// authorized read; see `store::access`).
pub async fn find_with_access(
    db: &impl ConnectionTrait,
    instance_id: &str,
    token_hash: Option<&[u8]>,
    pot_serial: i64,
) -> Result<Option<super::access::Found<Pot>>, DbErr> {
    super::access::fetch::<Entity>(
        db,
        instance_id,
        token_hash,
        Column::InstanceSerial,
        Column::PotSerial,
        pot_serial,
        |_| {},
    )
    .await
}

/// A `PotModifyRequest`, checked.
pub struct PotUpdate {
    pub pot_name: String,
    pub description: String,
    pub expected_totals: Option<Totals>,
    pub new_totals: Option<Totals>,
}

pub enum ModifyOutcome {
    Modified,
    Unknown,
    NameTaken,
    TotalsConflict,
}

/// Applies the update in one conditional `UPDATE`: with `expected_totals` the row only
/// changes if its totals still are those, so racing clients cannot lose an update.
pub async fn modify(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    pot_serial: i64,
    update: PotUpdate,
) -> Result<ModifyOutcome, DbErr> {
    let mut statement = Entity::update_many()
        .col_expr(Column::PotName, Expr::value(update.pot_name))
        .col_expr(Column::Description, Expr::value(update.description))
        .filter(Column::PotSerial.eq(pot_serial))
        .filter(Column::InstanceSerial.eq(instance_serial));
    if let Some(new) = &update.new_totals {
        statement = statement.col_expr(Column::PotTotals, Expr::value(new.to_db()));
    }
    if let Some(expected) = &update.expected_totals {
        statement = statement.filter(Column::PotTotals.eq(expected.to_db()));
    }
    match statement.exec(db).await {
        Ok(result) if result.rows_affected == 1 => Ok(ModifyOutcome::Modified),
        Ok(_) => Ok(match find(db, instance_serial, pot_serial).await? {
            None => ModifyOutcome::Unknown,
            Some(_) => ModifyOutcome::TotalsConflict,
        }),
        Err(err) if super::is_unique_violation(&err) => Ok(ModifyOutcome::NameTaken),
        Err(err) => Err(err),
    }
}

/// Deletes a pot; false if there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    instance_serial: i64,
    pot_serial: i64,
) -> Result<bool, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::PotSerial.eq(pot_serial))
        .filter(Column::InstanceSerial.eq(instance_serial))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(list: &[&str]) -> Result<Totals, String> {
        Totals::from_amounts(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    #[test]
    fn canonical_text_is_sorted_and_exact() {
        let t = totals(&["KUDOS:2.50", "EUR:0.00000001", "CHF:10"]).unwrap();
        assert_eq!(t.to_db(), "CHF:10,EUR:0.00000001,KUDOS:2.5");
        assert_eq!(Totals::from_db(&t.to_db()).unwrap(), t);
        assert_eq!(Totals::from_db("").unwrap(), Totals::default());
    }

    #[test]
    fn one_amount_per_currency() {
        assert_eq!(totals(&["EUR:1", "EUR:2"]).unwrap_err(), "EUR");
    }
}
