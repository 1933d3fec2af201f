//! TAN challenges: created by a protected operation of an account with a second
//! factor, sent (a fresh code each time, at most once per retransmission period),
//! solved with the code (a limited number of attempts per code), and used once by the
//! same operation with the same body. Every change is one conditional statement, so
//! racing requests on any number of servers agree.

use entities::bank_challenges::{self, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

pub type Challenge = bank_challenges::Model;

/// Attempts per code, as libeufin-bank's `TAN_RETRY_COUNTER`.
pub const RETRY_COUNTER: i32 = 3;
/// How long a code, and a solved challenge, stay good (seconds): libeufin-bank's
/// `TAN_VALIDITY_PERIOD`, one hour.
pub const VALIDITY: i64 = 3600;
/// How long before a code may be sent again (seconds): `TAN_RETRANSMISSION_PERIOD`.
pub const RETRANSMISSION: i64 = 60;
/// Unsolved challenges an account keeps; a new one voids the oldest beyond these.
pub const PENDING_PER_ACCOUNT: u64 = 16;

pub struct NewChallenge {
    pub challenge_id: String,
    pub account_id: i64,
    pub op: String,
    pub body_hash: String,
    pub code_hash: String,
    pub tan_channel: String,
    pub tan_info: String,
    pub now: i64,
}

/// Records a challenge (its first code is never sent: `send` draws a new one), and
/// voids the account's oldest unsolved challenges beyond `PENDING_PER_ACCOUNT`, so
/// that no client piles up rows.
pub async fn create(db: &impl ConnectionTrait, new: NewChallenge) -> Result<(), DbErr> {
    let account_id = new.account_id;
    bank_challenges::ActiveModel {
        challenge_id: Set(new.challenge_id),
        account_id: Set(new.account_id),
        op: Set(new.op),
        body_hash: Set(new.body_hash),
        code_hash: Set(new.code_hash),
        tan_channel: Set(new.tan_channel),
        tan_info: Set(new.tan_info),
        creation_date: Set(new.now),
        expiration_date: Set(new.now + VALIDITY),
        retry_counter: Set(RETRY_COUNTER),
        retransmission_date: Set(0),
        confirmation_date: Set(None),
        used_date: Set(None),
        invalidated: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let keep: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::ChallengeSerial)
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::ConfirmationDate.is_null())
        .filter(Column::Invalidated.eq(false))
        .order_by_desc(Column::ChallengeSerial)
        .offset(PENDING_PER_ACCOUNT)
        .limit(1)
        .into_tuple()
        .all(db)
        .await?;
    if let Some(oldest_kept) = keep.first() {
        Entity::update_many()
            .col_expr(Column::Invalidated, Expr::value(true))
            .filter(Column::AccountId.eq(account_id))
            .filter(Column::ConfirmationDate.is_null())
            .filter(Column::ChallengeSerial.lte(*oldest_kept))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A challenge of `account_id` by its public id.
pub async fn find(
    db: &impl ConnectionTrait,
    account_id: i64,
    challenge_id: &str,
) -> Result<Option<Challenge>, DbErr> {
    Entity::find()
        .filter(Column::ChallengeId.eq(challenge_id))
        .filter(Column::AccountId.eq(account_id))
        .one(db)
        .await
}

pub enum SendOutcome {
    /// Send the new code; it is good until the first date, and the next one may be
    /// asked for from the second.
    Send(Box<Challenge>, i64, i64),
    NotFound,
    /// The account's TAN settings changed since: the challenge is void.
    Invalidated,
    Solved,
    /// A code went out less than a retransmission period ago: wait until then.
    TooEarly(i64),
}

/// Draws the challenge's next code (`code_hash`): good for `VALIDITY` with
/// `RETRY_COUNTER` attempts, the earlier code void. Conditional on the challenge as
/// read, so two racing sends draw one code, and the other waits.
pub async fn next_code(
    db: &impl ConnectionTrait,
    account_id: i64,
    challenge_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<SendOutcome, DbErr> {
    let Some(c) = find(db, account_id, challenge_id).await? else {
        return Ok(SendOutcome::NotFound);
    };
    if c.invalidated {
        return Ok(SendOutcome::Invalidated);
    }
    if c.confirmation_date.is_some() {
        return Ok(SendOutcome::Solved);
    }
    if now < c.retransmission_date {
        return Ok(SendOutcome::TooEarly(c.retransmission_date));
    }
    let (expiration, retransmission) = (now + VALIDITY, now + RETRANSMISSION);
    let drawn = Entity::update_many()
        .col_expr(Column::CodeHash, Expr::value(code_hash))
        .col_expr(Column::ExpirationDate, Expr::value(expiration))
        .col_expr(Column::RetryCounter, Expr::value(RETRY_COUNTER))
        .col_expr(Column::RetransmissionDate, Expr::value(retransmission))
        .filter(Column::ChallengeSerial.eq(c.challenge_serial))
        .filter(Column::RetransmissionDate.eq(c.retransmission_date))
        .filter(Column::ConfirmationDate.is_null())
        .filter(Column::Invalidated.eq(false))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    Ok(if drawn {
        SendOutcome::Send(Box::new(c), expiration, retransmission)
    } else {
        SendOutcome::TooEarly(retransmission)
    })
}

/// The code could not be delivered: it may be asked for again at once.
pub async fn unsent(
    db: &impl ConnectionTrait,
    challenge_serial: i64,
    retransmission: i64,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::RetransmissionDate, Expr::value(0i64))
        .filter(Column::ChallengeSerial.eq(challenge_serial))
        .filter(Column::RetransmissionDate.eq(retransmission))
        .exec(db)
        .await?;
    Ok(())
}

pub enum SolveOutcome {
    Solved,
    NotFound,
    Invalidated,
    /// No attempts left for this code: ask for a new one.
    NoRetry,
    /// The code is too old: ask for a new one.
    Expired,
    BadCode,
}

/// Tries `code_hash` on a challenge: solved once (and then solved, whatever is
/// tried later, as libeufin-bank answers), otherwise an attempt less.
pub async fn solve(
    db: &impl ConnectionTrait,
    account_id: i64,
    challenge_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<SolveOutcome, DbErr> {
    let Some(c) = find(db, account_id, challenge_id).await? else {
        return Ok(SolveOutcome::NotFound);
    };
    if c.confirmation_date.is_some() {
        return Ok(SolveOutcome::Solved);
    }
    if c.invalidated {
        return Ok(SolveOutcome::Invalidated);
    }
    let live = |q: sea_orm::UpdateMany<Entity>| {
        q.filter(Column::ChallengeSerial.eq(c.challenge_serial))
            .filter(Column::ConfirmationDate.is_null())
            .filter(Column::Invalidated.eq(false))
            .filter(Column::RetryCounter.gt(0))
            .filter(Column::ExpirationDate.gt(now))
    };
    // A code is never sent before `send` draws one: until then nothing solves it.
    if c.retransmission_date != 0 {
        let solved = live(Entity::update_many())
            .col_expr(Column::ConfirmationDate, Expr::value(now))
            .filter(Column::CodeHash.eq(code_hash))
            .exec(db)
            .await?
            .rows_affected
            > 0;
        if solved {
            return Ok(SolveOutcome::Solved);
        }
    }
    let counted = live(Entity::update_many())
        .col_expr(
            Column::RetryCounter,
            Expr::col(Column::RetryCounter).sub(Expr::value(1)),
        )
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if counted {
        return Ok(SolveOutcome::BadCode);
    }
    // Nothing was live: read why.
    Ok(match find(db, account_id, challenge_id).await? {
        None => SolveOutcome::NotFound,
        Some(c) if c.confirmation_date.is_some() => SolveOutcome::Solved,
        Some(c) if c.invalidated => SolveOutcome::Invalidated,
        Some(c) if c.retry_counter <= 0 => SolveOutcome::NoRetry,
        Some(_) => SolveOutcome::Expired,
    })
}

/// The solved, unused challenges among `ids` of this account for this operation and
/// body, solved less than `VALIDITY` ago.
pub async fn solved(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[String],
    op: &str,
    body_hash: &str,
    now: i64,
) -> Result<Vec<Challenge>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::ChallengeId.is_in(ids.iter().cloned()))
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Op.eq(op))
        .filter(Column::BodyHash.eq(body_hash))
        .filter(Column::ConfirmationDate.gt(now - VALIDITY))
        .filter(Column::UsedDate.is_null())
        .all(db)
        .await
}

/// Marks a solved challenge used; false if it was already (a racing request used it).
pub async fn consume(
    db: &impl ConnectionTrait,
    challenge_serial: i64,
    now: i64,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::UsedDate, Expr::value(now))
        .filter(Column::ChallengeSerial.eq(challenge_serial))
        .filter(Column::UsedDate.is_null())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// The account's TAN settings changed: its unsolved challenges are void, since their
/// codes would go to addresses the owner no longer uses.
pub async fn invalidate_pending(db: &impl ConnectionTrait, account_id: i64) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Invalidated, Expr::value(true))
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::ConfirmationDate.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Garbage collection: challenges created before `before` that can no longer serve
/// (used, void, solved too long ago, or never solved and past their code's
/// expiration), and every
/// challenge created before `clean_before`.
pub async fn collect(
    db: &impl ConnectionTrait,
    before: i64,
    clean_before: i64,
    now: i64,
) -> Result<u64, DbErr> {
    use sea_orm::Condition;
    Ok(Entity::delete_many()
        .filter(
            Condition::any()
                .add(Column::CreationDate.lt(clean_before))
                .add(
                    Condition::all().add(Column::CreationDate.lt(before)).add(
                        Condition::any()
                            .add(Column::UsedDate.is_not_null())
                            .add(Column::Invalidated.eq(true))
                            .add(Column::ConfirmationDate.lt(now - VALIDITY))
                            .add(
                                Condition::all()
                                    .add(Column::ConfirmationDate.is_null())
                                    .add(Column::ExpirationDate.lt(now)),
                            ),
                    ),
                ),
        )
        .exec(db)
        .await?
        .rows_affected)
}
