//! What stands between a login form and the password hashes: repeated failures are
//! throttled per (username, client address) and per client address — never per username
//! alone, so nobody can lock the admin out from elsewhere — and an unknown username costs
//! the same hash as a known one, so timing does not tell which usernames exist.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::OnceCell;

use super::password::{self, HashCost, PasswordError};
use crate::error::AppError;

/// Failures counted within this window (it restarts once it has passed unblocked).
const WINDOW_MINUTES: i64 = 15;
/// Failures for one username from one address before it waits.
const PER_USERNAME_AND_ADDRESS: u32 = 5;
/// Failures from one address, whatever the usernames, before it waits.
const PER_ADDRESS: u32 = 20;
/// The first wait; each further failure while over the limit doubles it.
const FIRST_WAIT_SECONDS: i64 = 30;
const LONGEST_WAIT_SECONDS: i64 = 15 * 60;
/// Entries kept at most; expired ones are dropped first when it is reached.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    window_start: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
}

/// Per application: the failure counts, the dummy hash and how many hashes logins ran.
pub struct LoginGuard {
    failures: Mutex<HashMap<String, Failures>>,
    dummy_hash: OnceCell<String>,
    cost: HashCost,
    verifications: AtomicU64,
}

impl LoginGuard {
    pub fn new(cost: HashCost) -> LoginGuard {
        LoginGuard {
            failures: Mutex::new(HashMap::new()),
            dummy_hash: OnceCell::new(),
            cost,
            verifications: AtomicU64::new(0),
        }
    }

    /// Password hashes the logins of this application have computed.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    fn keys(username: &str, address: Option<IpAddr>) -> [String; 2] {
        let address = address.map_or_else(|| "unknown".to_string(), |a| a.to_string());
        [
            format!("user:{}|{address}", username.to_lowercase()),
            format!("address:{address}"),
        ]
    }

    /// 429 with the seconds to wait while either key is blocked.
    pub fn check(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let failures = self.failures.lock().expect("login guard lock");
        Self::blocked(&failures, &Self::keys(username, address), now)
    }

    fn blocked(
        failures: &HashMap<String, Failures>,
        keys: &[String; 2],
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let wait = keys
            .iter()
            .filter_map(|k| failures.get(k)?.blocked_until)
            .filter(|until| *until > now)
            .max();
        match wait {
            Some(until) => Err(AppError::TooManyRequests {
                message: "too many failed sign-in attempts; wait before trying again".into(),
                retry_after: (until - now).num_seconds().max(1) as u64,
            }),
            None => Ok(()),
        }
    }

    /// Lets an attempt through and counts it against both keys *before* its password is
    /// checked, in one step under the lock: of many attempts sent at once, only as many as
    /// the limit are checked and the rest get 429 (counting after the check let all of them
    /// through). A key that reaches its limit is blocked; a blocked key refuses every
    /// attempt, the right password too, until its wait has passed. A success takes its
    /// attempt back ([`LoginGuard::succeeded`]).
    pub fn admit(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut failures = self.failures.lock().expect("login guard lock");
        let keys = Self::keys(username, address);
        Self::blocked(&failures, &keys, now)?;
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, f| {
                f.blocked_until.is_some_and(|u| u > now)
                    || f.window_start + Duration::minutes(WINDOW_MINUTES) > now
            });
        }
        let [pair, address_key] = keys;
        for (key, limit) in [(pair, PER_USERNAME_AND_ADDRESS), (address_key, PER_ADDRESS)] {
            if failures.len() >= MAX_ENTRIES && !failures.contains_key(&key) {
                continue;
            }
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                window_start: now,
                blocked_until: None,
            });
            if entry.window_start + Duration::minutes(WINDOW_MINUTES) <= now {
                *entry = Failures {
                    count: 0,
                    window_start: now,
                    blocked_until: None,
                };
            }
            entry.count += 1;
            if entry.count >= limit {
                let doublings = (entry.count - limit).min(16);
                let wait = (FIRST_WAIT_SECONDS << doublings).min(LONGEST_WAIT_SECONDS);
                entry.blocked_until = Some(now + Duration::seconds(wait));
            }
        }
        Ok(())
    }

    /// Gives back an attempt that never got to its password (the hash slot was full, the
    /// database did not answer): it is not a guess, and must not lock anyone out.
    pub fn refund(&self, username: &str, address: Option<IpAddr>) {
        let [pair, address_key] = Self::keys(username, address);
        let mut failures = self.failures.lock().expect("login guard lock");
        for (key, limit) in [(pair, PER_USERNAME_AND_ADDRESS), (address_key, PER_ADDRESS)] {
            if let Some(entry) = failures.get_mut(&key) {
                entry.count = entry.count.saturating_sub(1);
                if entry.count < limit {
                    entry.blocked_until = None;
                }
            }
        }
    }

    /// A successful sign-in clears its (username, address) count and takes its attempt
    /// back from the address's count (which keeps its failures, so guessing many usernames
    /// from one place is still slowed down).
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let [pair, address_key] = Self::keys(username, address);
        let mut failures = self.failures.lock().expect("login guard lock");
        failures.remove(&pair);
        if let Some(entry) = failures.get_mut(&address_key) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    /// Checks `password` against `stored`, or against a dummy hash of the same cost when
    /// there is no stored hash (an unknown username), so both take the same time.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => {
                let dummy = self
                    .dummy_hash
                    .get_or_try_init(|| {
                        password::hash("a password nobody has".to_string(), self.cost)
                    })
                    .await?;
                (dummy.clone(), false)
            }
        };
        let matched = password::verify(password.to_string(), hash).await?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Ok(real && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn five_failures_for_a_username_from_an_address_make_it_wait() {
        let guard = LoginGuard::new(HashCost::FAST_FOR_TESTS);
        let here: Option<IpAddr> = "10.0.0.1".parse().ok();
        let elsewhere: Option<IpAddr> = "10.0.0.2".parse().ok();
        for _ in 0..4 {
            guard.admit("admin", here, at(0)).unwrap();
        }
        assert!(guard.check("admin", here, at(0)).is_ok());
        guard.admit("admin", here, at(0)).unwrap();
        let Err(AppError::TooManyRequests { retry_after, .. }) = guard.check("Admin", here, at(1))
        else {
            panic!("not throttled");
        };
        assert_eq!(retry_after, 29);
        // The admin can still sign in from elsewhere.
        assert!(guard.check("admin", elsewhere, at(1)).is_ok());
        // After the wait, one more failure doubles it.
        assert!(guard.check("admin", here, at(30)).is_ok());
        guard.admit("admin", here, at(30)).unwrap();
        let Err(AppError::TooManyRequests { retry_after, .. }) = guard.check("admin", here, at(30))
        else {
            panic!("not throttled");
        };
        assert_eq!(retry_after, 60);
        // Success clears it.
        guard.succeeded("admin", here);
        assert!(guard.check("admin", here, at(31)).is_ok());
    }

    #[test]
    fn only_the_limit_is_admitted_and_then_even_the_right_password_waits() {
        let guard = LoginGuard::new(HashCost::FAST_FOR_TESTS);
        let here: Option<IpAddr> = "10.0.0.3".parse().ok();
        let admitted = (0..20)
            .filter(|_| guard.admit("finance", here, at(0)).is_ok())
            .count();
        assert_eq!(admitted, PER_USERNAME_AND_ADDRESS as usize);
        // Whatever the password, the next attempt waits until the block has passed.
        assert!(guard.admit("finance", here, at(29)).is_err());
        assert!(guard.admit("finance", here, at(30)).is_ok());
        // A success takes its attempt back from the address's count.
        guard.succeeded("finance", here);
        assert!(guard.admit("finance", here, at(31)).is_ok());
    }

    #[test]
    fn many_usernames_from_one_address_are_throttled_too() {
        let guard = LoginGuard::new(HashCost::FAST_FOR_TESTS);
        let here: Option<IpAddr> = "10.0.0.9".parse().ok();
        for n in 0..20 {
            guard.admit(&format!("user{n}"), here, at(0)).unwrap();
        }
        assert!(guard.check("someone-new", here, at(0)).is_err());
        assert!(guard
            .check("someone-new", "10.0.0.10".parse().ok(), at(0))
            .is_ok());
        // Once the window has passed (and the wait is over), the count starts again.
        assert!(guard.check("someone-new", here, at(16 * 60)).is_ok());
    }

    #[tokio::test]
    async fn an_unknown_username_still_costs_one_hash() {
        let guard = LoginGuard::new(HashCost::FAST_FOR_TESTS);
        assert!(!guard.verify("anything", None).await.unwrap());
        assert_eq!(guard.verifications(), 1);
        let real = password::hash("right one".into(), HashCost::FAST_FOR_TESTS)
            .await
            .unwrap();
        assert!(guard.verify("right one", Some(real)).await.unwrap());
        assert_eq!(guard.verifications(), 2);
    }
}
