//! Argon2id password hashing, run off the async threads because it is deliberately slow,
//! and one at a time in one reused block of memory: each hash needs ~19 MiB, and letting a
//! burst of logins each allocate its own (from a different thread's allocator arena) grew
//! the server by hundreds of MiB that it never gave back. Requests queue for the slot and
//! are turned away (503, `Retry-After`) after a short wait.

use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Hashing cost. Production uses the OWASP-recommended Argon2id parameters; tests may use
/// a cheaper one (the hash records its own parameters, so verification always works).
#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

impl HashCost {
    pub const FAST_FOR_TESTS: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
    };
}

/// One hash at a time, process-wide (a login costs ~25 ms of one core: about forty a
/// second, far more than a back office signs in).
static SLOT: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(1));

/// The working memory of the hash in progress, kept for the next one.
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// A stored hash asking for more memory than this (64 MiB) is not computed.
const MAX_BLOCKS: usize = 64 * 1024;

/// How long a request waits for the slot before it is told to come back.
const WAIT_FOR_SLOT: Duration = Duration::from_secs(3);

/// Seconds a client turned away for want of the slot is asked to wait.
pub const BUSY_RETRY_AFTER: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The slot stayed taken for the whole wait.
    #[error("too many password checks are running; try again in a moment")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<PasswordError> for crate::error::AppError {
    fn from(e: PasswordError) -> crate::error::AppError {
        match e {
            PasswordError::Busy => crate::error::AppError::Busy {
                message: e.to_string(),
                retry_after: BUSY_RETRY_AFTER,
            },
            PasswordError::Failed(cause) => crate::error::AppError::Internal(cause),
        }
    }
}

async fn slot() -> Result<SemaphorePermit<'static>, PasswordError> {
    match tokio::time::timeout(WAIT_FOR_SLOT, SLOT.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(PasswordError::Busy),
    }
}

/// Runs Argon2 over the shared memory (grown to what `params` needs).
fn compute(
    argon: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> anyhow::Result<()> {
    let mut memory = MEMORY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

pub async fn hash(password: String, cost: HashCost) -> Result<String, PasswordError> {
    let _slot = slot().await?;
    let hashed = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        compute(
            &argon,
            params.block_count(),
            password.as_bytes(),
            salt_bytes,
            &mut out,
        )?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(hashed)
}

/// Whether `password` matches `stored_hash` (one that does not parse, or asks for more than
/// 64 MiB, matches nothing).
pub async fn verify(password: String, stored_hash: String) -> Result<bool, PasswordError> {
    let _slot = slot().await?;
    let matched = tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored_hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
            parsed.hash,
            parsed.salt,
        ) else {
            return false;
        };
        let version = parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from);
        let (Ok(version), true) = (version, params.block_count() <= MAX_BLOCKS) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let blocks = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        if compute(&argon, blocks, password.as_bytes(), salt_bytes, &mut out).is_err() {
            return false;
        }
        // Output's equality is constant-time.
        Output::new(&out).is_ok_and(|computed| computed == expected)
    })
    .await
    .unwrap_or(false);
    Ok(matched)
}

/// A password policy short enough to remember, long enough to matter.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 8 {
        Err("must be at least 8 characters")
    } else if password.len() > 256 {
        Err("must be at most 256 bytes")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_only_the_right_password() {
        let h = hash("correct horse".into(), HashCost::FAST_FOR_TESTS)
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), h.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), h).await.unwrap());
    }
}
