//! Who is calling and what they may do.

use domain::status::Role;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Roles allowed to read anything.
pub const READERS: &[Role] = &[Role::Admin, Role::Finance, Role::Operations, Role::Viewer];
/// Roles that record fleet data and repair invoices.
pub const OPERATORS: &[Role] = &[Role::Admin, Role::Operations];
/// Roles that move money in the ledger.
pub const FINANCE: &[Role] = &[Role::Admin, Role::Finance];
/// Back-office staff who manage invoices after creation (hold, resume, cancel).
pub const FINANCE_OR_OPERATIONS: &[Role] = &[Role::Admin, Role::Finance, Role::Operations];
/// Administration only.
pub const ADMINS: &[Role] = &[Role::Admin];

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub roles: Vec<Role>,
}

impl CurrentUser {
    /// Passes when the caller holds one of `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), AppError> {
        if self.has_any(allowed) {
            Ok(())
        } else {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            Err(AppError::Forbidden(format!(
                "this action needs one of the roles: {}",
                names.join(", ")
            )))
        }
    }

    pub fn has_any(&self, allowed: &[Role]) -> bool {
        self.roles.iter().any(|r| allowed.contains(r))
    }

    /// A system actor for CLI commands and scheduled jobs.
    pub fn system(name: &str) -> CurrentUser {
        CurrentUser {
            id: 0,
            username: name.to_string(),
            roles: vec![Role::Admin],
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub is_active: bool,
    pub created_on: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserRequest {
    pub username: String,
    pub password: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SetRolesRequest {
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetPasswordRequest {
    pub password: String,
}

/// Parses role words, naming the field and the allowed words on error.
pub fn parse_roles(words: &[String]) -> Result<Vec<Role>, AppError> {
    if words.is_empty() {
        return Err(AppError::field("roles", "at least one role is required"));
    }
    let mut roles = Vec::new();
    for word in words {
        match Role::parse(word.trim()) {
            Some(role) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => {
                return Err(AppError::field(
                    "roles",
                    format!(
                        "unknown role '{word}'; allowed: {}",
                        Role::all_words().join(", ")
                    ),
                ))
            }
        }
    }
    Ok(roles)
}

pub fn roles_to_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn roles_from_text(text: &str) -> Vec<Role> {
    text.split(',')
        .filter_map(|w| Role::parse(w.trim()))
        .collect()
}
