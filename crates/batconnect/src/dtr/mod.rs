//! Weekly driver transaction receipts (§8): one per lease and week, addressed to the lease's
//! driver manager, produced by the Sunday chain after the posting step, which applies the
//! week's earnings to the lease's balances by the payment hierarchy.

pub mod corrections;
pub mod model;
pub mod pages;
pub mod pdf;
pub mod query;
pub mod record;
pub mod repo;
pub mod routes;
pub mod service;
