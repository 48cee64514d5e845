//! BAT Connect Repairs: repair invoices turned into weekly installments, a centralized
//! ledger and weekly driver statements for a New York taxi fleet.

pub mod api;
pub mod app;
#[cfg(test)]
mod architecture;
pub mod audit;
pub mod auth;
pub mod bpm;
pub mod bpm_flows;
pub mod clock;
pub mod config;
pub mod cron;
pub mod db;
pub mod documents;
pub mod dtr;
pub mod error;
pub mod exports;
pub mod fleet;
pub mod house_style;
pub mod http;
pub mod import;
pub mod jobs;
pub mod ledger;
pub mod repairs;
pub mod reporting;
pub mod seed;
pub mod state;
pub mod stop;
pub mod storage;
pub mod web;
pub mod workshops;

pub use app::Application;
