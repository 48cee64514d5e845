//! What every front door (the API, the console's pages, the scheduler) holds: the database,
//! the settings, the clock, the file storage, the token keys and the registered BPM flows.
//! Cloned cheaply per request; business actions take only the parts they use.

use std::sync::Arc;

use crate::auth::password::HashCost;
use crate::auth::TokenKeys;
use crate::bpm::Registry;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;

/// Everything a handler needs, cloned cheaply per request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub tokens: Arc<TokenKeys>,
    pub hash_cost: HashCost,
    pub flows: Arc<Registry>,
    /// The Sunday chain's steps, registered by their features.
    pub steps: Arc<crate::jobs::registry::Steps>,
    /// Receipts and uploaded documents (local directory or S3).
    pub storage: crate::storage::Storage,
    /// Exports streaming at once: each holds a database connection while its query runs,
    /// so a third of the pool at most, and slow downloads cannot starve the API or the
    /// Sunday run (beyond it: 503 with `Retry-After`).
    pub export_slots: Arc<tokio::sync::Semaphore>,
    /// Login throttling and the dummy hash for unknown usernames.
    pub login_guard: Arc<crate::auth::guard::LoginGuard>,
}
