//! Users, roles, password hashing and bearer tokens (§9). Every route except health, docs
//! and login passes through [`middleware::require_auth`].

pub mod guard;
pub mod middleware;
pub mod model;
pub mod pages;
pub mod password;
pub mod repo;
pub mod routes;
pub mod service;
pub mod session;
pub mod token;

pub use model::CurrentUser;
pub use token::{TokenError, TokenKeys};
