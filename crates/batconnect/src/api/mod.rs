//! What every feature's HTTP handlers share: request extractors whose rejections are
//! problem+json, and `Idempotency-Key` for money-moving POSTs. Below the features (they all
//! use it) and free of them; `http` assembles the features' routers on top.

pub mod clean;
pub mod extract;
pub mod idempotency;
