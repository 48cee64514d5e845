//! Reports (§14): read-only figures derived from the records the other features keep, for
//! every role — what repairs cost, by month, workshop, vehicle, driver or kind. Each report
//! is a JSON answer, the same figures as CSV, Excel or PDF, and a console page with its
//! charts (drawn by `web::chart`) and their tables.

pub mod files;
pub mod ledger_reports;
pub mod model;
pub mod pages;
pub mod repo;
pub mod routes;
pub mod service;
