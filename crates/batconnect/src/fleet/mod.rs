//! Fleet registry (§3): the drivers, medallions, vehicles and leases that repairs read.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use routes::router;
