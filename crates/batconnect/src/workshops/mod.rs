//! The workshops registry (§13): who repairs the fleet's cars, in house or outside, with
//! their contact details, and what the fleet has spent at each. A repair invoice names one;
//! the guide's two workshop words are the two kinds' default workshops.
//! Layout as every feature: model.rs (types), repo.rs (SQL), service.rs (business actions,
//! one transaction each), routes.rs (HTTP), pages.rs (console).

pub mod model;
pub mod pages;
pub mod repo;
pub mod routes;
pub mod service;
