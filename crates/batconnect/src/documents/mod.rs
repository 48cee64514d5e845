//! Invoice documents: the workshop's invoice file (PDF, JPEG or PNG) uploaded to a repair
//! case before its step is submitted (the step then links it to the invoice it creates),
//! or to an invoice afterwards; listed and downloaded through this service.

pub mod model;
pub mod pages;
pub mod pending;
pub mod repo;
pub mod routes;
pub mod service;
