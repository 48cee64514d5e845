//! "Now", fixable in tests: the weekly run and the current payment period depend on it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
            None => Utc::now(),
        }
    }

    /// Moves a fixed clock; no effect on the system clock.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }
}
