//! Argon2id password hashing, run off the async threads because it is deliberately slow.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

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

pub async fn hash(password: String, cost: HashCost) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

pub async fn verify(password: String, stored_hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored_hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
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
        assert!(verify("correct horse".into(), h.clone()).await);
        assert!(!verify("wrong horse".into(), h).await);
    }
}
