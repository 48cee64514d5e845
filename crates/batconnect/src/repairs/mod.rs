//! Vehicle repairs (§5): invoices, their weekly installment schedules and the read API.
//! Maps to the guide's `app/repairs` module: models → model.rs, repository → repo.rs,
//! services → service.rs, router → routes.rs, tasks → jobs.rs.

pub mod jobs;
pub mod lifecycle;
pub mod model;
pub mod numbers;
pub mod pages;
pub mod query;
pub mod receipt;
pub mod repo;
pub mod routes;
pub mod service;
pub mod wizard_lines;
