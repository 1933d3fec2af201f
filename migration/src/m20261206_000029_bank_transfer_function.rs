//! `bank_transfer(...)`: a transfer of the bank in one statement on PostgreSQL, as
//! libeufin-bank books its transfers in a stored procedure. Done in the server, a
//! transfer was a dozen round trips (begin, the row, a read and a compare-and-swap for
//! each balance, two statements for each of the four statistics rows, commit, a
//! notification for each account), each a wait on the network while its row locks
//! were held. SQLite keeps the server's own steps (`store::bank::transfers`): there a
//! statement is no round trip.
//!
//! The function does what `store::bank::transfers::book` does, in the same order and
//! with the same refusals; every refusal writes nothing:
//! 1. the transfer's row, `ON CONFLICT DO NOTHING`: a row with the same request uid,
//!    wire transfer identifier or reserve key is `collision` (the server then says
//!    which, or replays the first answer);
//! 2. the balances, locked in account order and checked (the debtor's debit threshold,
//!    Taler's largest amount): `unallowed`;
//! 3. the withdrawal to confirm still `selected`: else `withdrawal`;
//! 4. the solved challenge not used yet: else `challenge`;
//! 5. then the writes: balances, the monitor's statistics, the withdrawal, the
//!    challenge, the bounce of what an exchange cannot use, and a notification of both
//!    accounts to the long pollers (sent when the transaction commits).
//!
//! Amounts are exact: `NUMERIC` units of 10^-8, the server's `i128`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = r#"
CREATE FUNCTION bank_transfer(
  in_debtor BIGINT, in_creditor BIGINT, in_amount TEXT, in_amount_units NUMERIC,
  in_credit_fee TEXT, in_fee_units NUMERIC, in_fee_account BIGINT, in_subject TEXT,
  in_date BIGINT, in_request_uid TEXT, in_wtid TEXT, in_exchange_base_url TEXT,
  in_reserve_pub TEXT, in_account_pub TEXT, in_bounce_cause TEXT, in_bounce_amount TEXT,
  in_withdrawal BIGINT, in_challenge BIGINT, in_stats_in BOOLEAN, in_stats_out BOOLEAN,
  in_hour BIGINT, in_day BIGINT, in_month BIGINT, in_year BIGINT,
  in_max_balance NUMERIC, in_channel TEXT,
  OUT out_outcome TEXT, OUT out_row_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
  ids BIGINT[];
  deltas NUMERIC[];
  balances NUMERIC[] := '{}';
  received NUMERIC := in_amount_units - in_fee_units;
  current_balance NUMERIC;
  threshold NUMERIC;
  next_balance NUMERIC;
  i INT;
BEGIN
  INSERT INTO bank_transactions (debtor_account_id, creditor_account_id, amount,
      credit_fee, subject, date, request_uid, wtid, exchange_base_url, reserve_pub,
      account_pub)
    VALUES (in_debtor, in_creditor, in_amount, in_credit_fee, in_subject, in_date,
      in_request_uid, in_wtid, in_exchange_base_url, in_reserve_pub, in_account_pub)
    ON CONFLICT DO NOTHING
    RETURNING row_id INTO out_row_id;
  IF out_row_id IS NULL THEN
    out_outcome := 'collision';
    RETURN;
  END IF;

  -- What each account gains or loses, merged per account, in account order (the
  -- order every transfer locks them in, so two transfers never deadlock). The locks
  -- are NO KEY UPDATE, an UPDATE's own: the row's foreign keys hold KEY SHARE locks
  -- on both accounts, which FOR UPDATE would wait for (two transfers would deadlock).
  SELECT array_agg(account ORDER BY account), array_agg(delta ORDER BY account)
    INTO ids, deltas
    FROM (SELECT account, sum(delta) AS delta
            FROM (VALUES (in_debtor, -in_amount_units), (in_creditor, received),
                         (COALESCE(in_fee_account, in_debtor),
                          CASE WHEN in_fee_units > 0 THEN in_fee_units END)) AS d(account, delta)
           WHERE delta IS NOT NULL
           GROUP BY account) AS merged;

  FOR i IN 1 .. array_length(ids, 1) LOOP
    SELECT CASE WHEN has_debt THEN -1 ELSE 1 END
             * (balance_value::NUMERIC * 100000000 + balance_frac),
           debit_threshold_value::NUMERIC * 100000000 + debit_threshold_frac
      INTO current_balance, threshold
      FROM bank_accounts WHERE account_id = ids[i] FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'bank account % does not exist', ids[i];
    END IF;
    next_balance := current_balance + deltas[i];
    IF (ids[i] = in_debtor AND deltas[i] < 0 AND next_balance < -threshold)
       OR (deltas[i] > 0 AND next_balance > in_max_balance) THEN
      DELETE FROM bank_transactions WHERE row_id = out_row_id;
      out_outcome := 'unallowed';
      out_row_id := NULL;
      RETURN;
    END IF;
    balances[i] := next_balance;
  END LOOP;

  IF in_withdrawal IS NOT NULL THEN
    PERFORM 1 FROM bank_withdrawals
      WHERE withdrawal_serial = in_withdrawal AND status = 'selected' FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      DELETE FROM bank_transactions WHERE row_id = out_row_id;
      out_outcome := 'withdrawal';
      out_row_id := NULL;
      RETURN;
    END IF;
  END IF;
  IF in_challenge IS NOT NULL THEN
    PERFORM 1 FROM bank_challenges
      WHERE challenge_serial = in_challenge AND used_date IS NULL FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      DELETE FROM bank_transactions WHERE row_id = out_row_id;
      out_outcome := 'challenge';
      out_row_id := NULL;
      RETURN;
    END IF;
  END IF;

  -- What an exchange cannot use goes back at once: the creditor returns what it
  -- received (it may go below zero: it is not checked), the debtor gets it back
  -- unless that passed Taler's largest amount.
  IF in_bounce_cause IS NOT NULL THEN
    INSERT INTO bank_transactions (debtor_account_id, creditor_account_id, amount,
        credit_fee, subject, date)
      VALUES (in_creditor, in_debtor, in_bounce_amount, NULL,
        'Bounce ' || out_row_id || ': ' || in_bounce_cause, in_date);
    FOR i IN 1 .. array_length(ids, 1) LOOP
      IF ids[i] = in_creditor THEN
        balances[i] := balances[i] - received;
      ELSIF ids[i] = in_debtor AND balances[i] + received <= in_max_balance THEN
        balances[i] := balances[i] + received;
      END IF;
    END LOOP;
  END IF;

  UPDATE bank_accounts AS a
     SET balance_value = div(abs(n.balance), 100000000),
         balance_frac = mod(abs(n.balance), 100000000),
         has_debt = n.balance < 0
    FROM unnest(ids, balances) AS n(account, balance)
   WHERE a.account_id = n.account;

  IF in_stats_in OR in_stats_out THEN
    INSERT INTO bank_stats AS s (timeframe, start, taler_in_count, taler_in_value,
        taler_in_frac, taler_out_count, taler_out_value, taler_out_frac)
      SELECT t, st,
             CASE WHEN in_stats_in THEN 1 ELSE 0 END,
             CASE WHEN in_stats_in THEN div(in_amount_units, 100000000) ELSE 0 END,
             CASE WHEN in_stats_in THEN mod(in_amount_units, 100000000) ELSE 0 END,
             CASE WHEN in_stats_out THEN 1 ELSE 0 END,
             CASE WHEN in_stats_out THEN div(in_amount_units, 100000000) ELSE 0 END,
             CASE WHEN in_stats_out THEN mod(in_amount_units, 100000000) ELSE 0 END
        FROM (VALUES ('hour', in_hour), ('day', in_day), ('month', in_month),
                     ('year', in_year)) AS f(t, st)
      ON CONFLICT (timeframe, start) DO UPDATE SET
        taler_in_count = s.taler_in_count + EXCLUDED.taler_in_count,
        taler_in_value = s.taler_in_value + EXCLUDED.taler_in_value,
        taler_in_frac = s.taler_in_frac + EXCLUDED.taler_in_frac,
        taler_out_count = s.taler_out_count + EXCLUDED.taler_out_count,
        taler_out_value = s.taler_out_value + EXCLUDED.taler_out_value,
        taler_out_frac = s.taler_out_frac + EXCLUDED.taler_out_frac;
  END IF;

  IF in_withdrawal IS NOT NULL THEN
    UPDATE bank_withdrawals
       SET status = 'confirmed', transfer_row_id = out_row_id,
           confirmation_date = in_date, amount = in_amount
     WHERE withdrawal_serial = in_withdrawal;
  END IF;
  IF in_challenge IS NOT NULL THEN
    UPDATE bank_challenges SET used_date = in_date WHERE challenge_serial = in_challenge;
  END IF;

  IF in_channel IS NOT NULL THEN
    PERFORM pg_notify(in_channel, in_creditor::TEXT);
    PERFORM pg_notify(in_channel, in_debtor::TEXT);
  END IF;
  out_outcome := 'done';
END
$$"#;

const DROP: &str = "DROP FUNCTION IF EXISTS bank_transfer(BIGINT, BIGINT, TEXT, NUMERIC, TEXT, \
    NUMERIC, BIGINT, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT, \
    BOOLEAN, BOOLEAN, BIGINT, BIGINT, BIGINT, BIGINT, NUMERIC, TEXT)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(DROP).await?;
        }
        Ok(())
    }
}
