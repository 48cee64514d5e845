//! Case engine (BPM, §4): case types with a number prefix, steps registered in code with a
//! fetch and a process handler each, JSON-Schema-validated submissions, case entities and
//! an audit trail. Flows (see `bpm_flows`) plug in through [`Registry`].

pub mod engine;
pub mod model;
pub mod repo;
pub mod routes;
pub mod schemas;
pub mod service;

pub use engine::{FetchContext, FlowDef, ProcessContext, Registry, StepDef, StepHandler};
