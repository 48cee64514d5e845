//! Integration tests: the real router over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod aging_statement;
mod auth;
mod browser;
mod case_engine;
mod cashier;
mod console;
mod console_finance;
mod console_finished;
mod corrections;
mod documents;
mod earnings_dtr;
mod exports;
mod fleet;
mod hardening;
mod hostile;
mod http_surface;
mod known_words;
mod lease_rent;
mod ledger_jobs;
mod money_forms;
mod money_truth;
mod moto;
mod printed_documents;
mod race_kit;
mod races;
mod repair_costs;
mod repairs_flow;
mod repairs_read;
mod reports_quarter;
mod sidecar;
mod simulation;
mod statements;
mod sunday_runs;
mod workshops;
