//! Fleet registry (§3): the drivers, medallions, vehicles and leases that repairs read.

pub mod edit;
pub mod lease_end;
pub mod model;
pub mod pages;
pub mod rent;
pub mod repo;
pub mod routes;
pub mod service;

pub use routes::router;
