//! Centralized ledger (§6): immutable postings, one balance per obligation, allocations of
//! payments to balances, voids by reversal. Obligations are idempotent on
//! (category, reference_id), enforced by a unique index.

pub mod cashier_pages;
pub mod interim;
pub mod interim_list;
pub mod model;
pub mod pages;
pub mod payments;
pub mod query;
pub mod repo;
pub mod routes;
pub mod service;
pub mod verify;
