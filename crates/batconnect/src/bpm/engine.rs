//! What a flow registers: its case type, its steps and a handler per step.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::status::Role;

use super::model::CaseRecord;
use crate::auth::CurrentUser;
use crate::db::{Db, Tx};
use crate::error::AppError;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Inputs to a step's fetch handler.
pub struct FetchContext<'a> {
    pub db: &'a Db,
    pub case: &'a CaseRecord,
    /// The request's query parameters (e.g. `tlc_license_no`).
    pub query: &'a HashMap<String, String>,
    pub now: DateTime<Utc>,
    pub timezone: Tz,
}

/// Inputs to a step's process handler; it writes only through the given transaction.
pub struct ProcessContext<'a> {
    pub case: &'a CaseRecord,
    pub user: &'a CurrentUser,
    pub now: DateTime<Utc>,
    pub timezone: Tz,
    /// The settings a handler's business rules read (e.g. the repayment matrix).
    pub config: &'a crate::config::Config,
}

pub trait StepHandler: Send + Sync {
    /// Data the step shows before it is submitted.
    fn fetch<'a>(
        &'a self,
        ctx: FetchContext<'a>,
    ) -> BoxFuture<'a, Result<serde_json::Value, AppError>>;

    /// Acts on schema-valid `data` inside `tx`; the engine commits when this returns `Ok`.
    fn process<'a>(
        &'a self,
        ctx: ProcessContext<'a>,
        tx: &'a mut Tx,
        data: serde_json::Value,
    ) -> BoxFuture<'a, Result<serde_json::Value, AppError>>;

    /// Runs after the submission's transaction has committed, with its output: work that
    /// must not hold the transaction open (e.g. rendering and storing a file). It cannot
    /// fail the request, which has already succeeded; it logs what went wrong instead.
    fn after_commit<'a>(
        &'a self,
        _ctx: AfterCommit<'a>,
        _output: &'a serde_json::Value,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// Inputs to a step's post-commit hook.
pub struct AfterCommit<'a> {
    pub cases: &'a super::service::Cases<'a>,
    pub case: &'a CaseRecord,
    pub user: &'a CurrentUser,
    pub now: DateTime<Utc>,
}

pub struct StepDef {
    pub step_id: &'static str,
    pub name: &'static str,
    pub allowed_roles: &'static [Role],
    /// Schema path relative to the schema root, linked at start-up when no link is active.
    pub default_schema: &'static str,
    pub handler: Arc<dyn StepHandler>,
}

pub struct FlowDef {
    pub case_type_name: &'static str,
    pub prefix: &'static str,
    /// In order; the first is the case type's first step.
    pub steps: Vec<StepDef>,
}

#[derive(Default)]
pub struct Registry {
    flows: Vec<FlowDef>,
}

impl Registry {
    pub fn register(&mut self, flow: FlowDef) {
        assert!(
            domain::ids::is_valid_case_prefix(flow.prefix),
            "bad case prefix {}",
            flow.prefix
        );
        assert!(!flow.steps.is_empty(), "flow {} has no steps", flow.prefix);
        self.flows.push(flow);
    }

    pub fn flows(&self) -> &[FlowDef] {
        &self.flows
    }

    pub fn flow(&self, prefix: &str) -> Option<&FlowDef> {
        self.flows.iter().find(|f| f.prefix == prefix)
    }

    pub fn step(&self, step_id: &str) -> Option<(&FlowDef, &StepDef)> {
        self.flows.iter().find_map(|f| {
            f.steps
                .iter()
                .find(|s| s.step_id == step_id)
                .map(|s| (f, s))
        })
    }
}
