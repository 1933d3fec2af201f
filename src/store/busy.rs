//! How an SQLite connection waits for another's write to end.
//!
//! SQLite lets one connection write at a time; the others wait in a busy handler.
//! The one `busy_timeout` installs sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and
//! then 100 ms between its tries, while a write with `synchronous=FULL` takes about
//! half a millisecond: under load the lock sat free for most of a sleep, writers
//! arriving later took it first, and a request that had to wait waited hundreds of
//! milliseconds (POST pot's p99 was 300 to 500 ms, its throughput 80% to 100% of a
//! bare insert's, by how many writers happened to be waiting). This handler tries
//! again after 25 µs, doubling to at most 1 ms, so the lock passes on within a
//! fraction of a write, and gives up after [`TIMEOUT`] as `busy_timeout` did.

use std::{
    ffi::{c_int, c_void},
    time::Duration,
};

use sea_orm::sqlx::{self, SqliteConnection};

/// How long a connection waits for the lock before its statement fails as busy.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The first wait, and the longest: every wait after the first doubles, up to it.
const FIRST: Duration = Duration::from_micros(25);
const LONGEST: Duration = Duration::from_millis(1);

/// How long to sleep before try `n + 1` (`n` tries have failed), or `None` once the
/// tries so far have waited [`TIMEOUT`] in all.
fn wait_before(n: u32) -> Option<Duration> {
    // 25 µs · 2^n reaches 1 ms at n = 6; the waits before then add up to 1.575 ms.
    let doubling = 6;
    let waited = if n < doubling {
        FIRST * ((1 << n) - 1)
    } else {
        FIRST * ((1 << doubling) - 1) + LONGEST * (n - doubling)
    };
    (waited < TIMEOUT).then(|| (FIRST * (1 << n.min(doubling))).min(LONGEST))
}

/// SQLite's busy handler: runs on the connection's own thread (sqlx gives each
/// SQLite connection one), so it may sleep.
extern "C" fn busy(_: *mut c_void, n: c_int) -> c_int {
    match wait_before(u32::try_from(n).unwrap_or(0)) {
        Some(wait) => {
            std::thread::sleep(wait);
            1
        }
        None => 0,
    }
}

/// Replaces the connection's busy handler (the one `busy_timeout` installed) with
/// [`busy`].
pub async fn install(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    // SAFETY: the handle is the open connection's, held locked (no statement runs on
    // it meanwhile); `busy` is a plain function that keeps no pointer.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(
            handle.as_raw_handle().as_ptr(),
            Some(busy),
            std::ptr::null_mut(),
        )
    };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "cannot install the SQLite busy handler: error {rc}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_to_a_millisecond_and_end_after_the_timeout() {
        let waits: Vec<_> = (0..8).map(|n| wait_before(n).unwrap()).collect();
        assert_eq!(
            waits,
            [25, 50, 100, 200, 400, 800, 1000, 1000].map(Duration::from_micros)
        );
        let mut total = Duration::ZERO;
        let mut n = 0;
        while let Some(wait) = wait_before(n) {
            total += wait;
            n += 1;
        }
        assert!(
            total >= TIMEOUT && total < TIMEOUT + LONGEST * 2,
            "{total:?}"
        );
    }
}
