//! Integration tests: the real router over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod case_engine;
mod earnings_dtr;
mod fleet;
mod http_surface;
mod ledger_jobs;
mod repairs_flow;
mod repairs_read;
mod simulation;
