//! Password hashing and verification on a bounded pool of threads.
//!
//! argon2id needs 19 MiB of working memory per run. Run freely on tokio's blocking
//! threads, a burst of wrong passwords costs 19 MiB per concurrent guess, and the
//! allocator keeps what the short-lived threads freed. Here a fixed number of worker
//! threads each own one reusable block buffer, allocated once: however many clients
//! try, hashing never holds more than `workers × 19 MiB`. The queue in front of the
//! workers is bounded too; when it is full the caller gets [`Busy`] at once (the
//! services answer 503 with `Retry-After`), never more memory.

use std::sync::{Arc, Mutex, mpsc};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString},
};

use super::secret;

/// The largest argon2 working memory a stored hash may ask for (64 MiB, in 1 KiB
/// blocks); a hash asking for more is refused rather than allocated.
const MAX_BLOCKS: usize = 64 * 1024;

/// The queue in front of the workers is full: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

enum Work {
    Verify { password: String, phc: String },
    Hash { password: String },
}

enum Done {
    Verified(bool),
    Hashed(String),
}

struct Job {
    work: Work,
    reply: tokio::sync::oneshot::Sender<Done>,
}

/// The pool. Its threads start with the first password to check, so building an
/// application state that never checks one (`openapi --out`) starts none.
pub struct PasswordPool {
    queue: std::sync::OnceLock<mpsc::SyncSender<Job>>,
    workers: usize,
    capacity: usize,
}

impl PasswordPool {
    /// `workers` threads (at least one) behind a queue of `queue` waiting jobs (at
    /// least one: a queue of none would refuse a job whenever no worker happens to be
    /// waiting at that instant, even an idle pool's).
    pub fn new(workers: usize, queue: usize) -> PasswordPool {
        PasswordPool {
            queue: std::sync::OnceLock::new(),
            workers: workers.max(1),
            capacity: queue.max(1),
        }
    }

    fn queue(&self) -> &mpsc::SyncSender<Job> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::sync_channel::<Job>(self.capacity);
            let rx = Arc::new(Mutex::new(rx));
            for n in 0..self.workers {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("password-{n}"))
                    .spawn(move || worker(&rx))
                    .expect("the operating system starts a password worker thread");
            }
            tx
        })
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn queue_capacity(&self) -> usize {
        self.capacity
    }

    async fn run(&self, work: Work) -> Result<Done, Busy> {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.queue()
            .try_send(Job { work, reply })
            .map_err(|_| Busy)?;
        // A worker that died (it cannot, short of a panic in argon2) drops the sender.
        done.await.map_err(|_| Busy)
    }

    /// Does `password` match the PHC string `phc`? Constant time in the password.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, Busy> {
        match self
            .run(Work::Verify {
                password: password.to_owned(),
                phc: phc.to_owned(),
            })
            .await?
        {
            Done::Verified(ok) => Ok(ok),
            Done::Hashed(_) => Ok(false),
        }
    }

    /// An argon2id PHC string of `password` with a fresh salt.
    pub async fn hash(&self, password: &str) -> Result<String, Busy> {
        match self
            .run(Work::Hash {
                password: password.to_owned(),
            })
            .await?
        {
            Done::Hashed(phc) => Ok(phc),
            Done::Verified(_) => Err(Busy),
        }
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>) {
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        let job = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return, // the pool is gone
            }
        };
        let done = match job.work {
            Work::Verify { password, phc } => Done::Verified(verify(&password, &phc, &mut blocks)),
            Work::Hash { password } => Done::Hashed(hash(&password, &mut blocks)),
        };
        let _ = job.reply.send(done);
    }
}

/// The worker's buffer, grown (once) to what `params` needs.
fn memory<'a>(blocks: &'a mut Vec<Block>, params: &Params) -> Option<&'a mut [Block]> {
    let needed = params.block_count();
    if needed > MAX_BLOCKS {
        return None;
    }
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    Some(&mut blocks[..needed])
}

fn verify(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    let mut check = || -> Option<bool> {
        let hash = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
        let version = Version::try_from(hash.version.unwrap_or(0x13)).ok()?;
        let params = Params::try_from(&hash).ok()?;
        let expected = hash.hash?;
        let mut salt = [0u8; 64];
        let salt = hash.salt?.decode_b64(&mut salt).ok()?;
        let mut out = vec![0u8; expected.len()];
        let memory = memory(blocks, &params)?;
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
            .ok()?;
        Some(secret::constant_time_eq(&out, expected.as_bytes()))
    };
    check().unwrap_or(false)
}

fn hash(password: &str, blocks: &mut Vec<Block>) -> String {
    let params = Params::default();
    let salt = SaltString::encode_b64(&secret::random_bytes::<16>()).expect("16 bytes make a salt");
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .expect("a salt we encoded decodes");
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let memory = memory(blocks, &params).expect("the default parameters fit the limit");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut out, memory)
        .expect("argon2 hashes any password with the default parameters");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("default parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("32 bytes make an output")),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pool_hashes_and_verifies_compatibly_with_argon2() {
        let pool = PasswordPool::new(1, 4);
        let phc = pool.hash("correct horse").await.unwrap();
        assert!(pool.verify("correct horse", &phc).await.unwrap());
        assert!(!pool.verify("correct hors", &phc).await.unwrap());
        assert!(!pool.verify("x", "not a hash").await.unwrap());
        // Hashes made elsewhere (older rows) verify, and ours verify there.
        assert!(secret::verify_password("correct horse", &phc));
        let old = secret::hash_password("battery staple");
        assert!(pool.verify("battery staple", &old).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_not_memory() {
        let pool = PasswordPool::new(1, 1);
        let phc = secret::hash_password("pw");
        let attempts: Vec<_> = (0..16).map(|_| pool.verify("wrong", &phc)).collect();
        let results = futures_util::future::join_all(attempts).await;
        assert!(results.contains(&Err(Busy)));
        assert!(results.contains(&Ok(false)));
    }
}
