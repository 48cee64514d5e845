//! The Sunday chain's steps, registered by the features that own them: the jobs room runs
//! a step by its name (`repairs.post_due_installments`, …, the names the guide and the runs
//! table use, in [`super::model::CHAIN`]) without knowing what it does, so no feature's
//! work is written here and no import circle runs through the scheduler. The application
//! assembly registers the steps (`app::build_state`).

use std::future::Future;
use std::pin::Pin;

use chrono::NaiveDate;

use super::runner::JobContext;
use crate::error::AppError;
use crate::stop::StopFlag;

/// What a step is given: the jobs' context (database, clock, settings), the run's date,
/// who runs it, and the flag raised when its run was taken over by another worker.
pub struct StepRun<'a> {
    pub ctx: &'a JobContext,
    pub as_of: NaiveDate,
    pub actor: &'a str,
    pub stop: &'a StopFlag,
}

/// What a step reports (its counts, kept on the run's record).
pub type StepOutcome<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, AppError>> + Send + 'a>>;

/// One step of the chain.
#[derive(Clone, Copy)]
pub struct ChainStep {
    pub name: &'static str,
    pub run: for<'a> fn(StepRun<'a>) -> StepOutcome<'a>,
}

/// The registered steps.
#[derive(Clone, Default)]
pub struct Steps(Vec<ChainStep>);

impl Steps {
    /// The steps of every job of the chain, one each; a job without its step (or with two)
    /// is an assembly error, refused at start.
    pub fn of(steps: Vec<ChainStep>) -> anyhow::Result<Steps> {
        for name in super::model::CHAIN {
            let count = steps.iter().filter(|s| s.name == name).count();
            anyhow::ensure!(
                count == 1,
                "the job {name} has {count} registered steps, not one"
            );
        }
        Ok(Steps(steps))
    }

    pub fn find(&self, name: &str) -> Option<&ChainStep> {
        self.0.iter().find(|s| s.name == name)
    }
}

/// A step's report as the run's counts.
pub fn counts<T: serde::Serialize>(report: T) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_default()
}
