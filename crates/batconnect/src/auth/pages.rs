//! User administration in the console (admin): create users, set their roles, reset a
//! password, disable and enable — with the API's rules, among them that the last active
//! admin can be neither disabled nor stripped of the role (so nobody locks the fleet out).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::status::Role;
use maud::html;

use super::model::{NewUserRequest, ADMINS};
use super::{repo, service};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{badge, csrf, date, input_field};
use crate::web::{FieldErrors, Form, Page, PageError, Signed, PREFIX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/admin/users", get(users).post(create))
        .route("/app/admin/users/{id}/{action}", post(change))
}

fn roles_of(form: &Form) -> Vec<String> {
    form.0
        .iter()
        .filter(|(k, _)| k == "roles")
        .map(|(_, v)| v.clone())
        .collect()
}

async fn users(
    State(state): State<AppState>,
    signed: Signed,
    query: crate::api::extract::RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(ADMINS)?;
    let said = notice(&state, &query).await?;
    render(
        &state,
        &signed,
        &FieldErrors::default(),
        None,
        said.as_deref(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    signed: &Signed,
    errors: &FieldErrors,
    new_user: Option<&Form>,
    said: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let all = repo::list(state.db.reader()).await?;
    // The last active admin is not offered "Disable" (the service refuses it too).
    let active_admins = all
        .iter()
        .filter(|u| u.is_active && u.roles.contains(&Role::Admin))
        .count();
    // A refused new user comes back with its name and roles (never its password).
    let typed_roles = new_user.map(roles_of);
    let new_role = |role: &Role| match &typed_roles {
        Some(roles) => roles.iter().any(|r| r == role.as_str()),
        None => *role == Role::Viewer,
    };
    let content = html! {
        @if let Some(done) = said { p.notice role="status" { (done) } }
        @for e in errors.general(&["username", "password"]) {
            p.notice.error role="alert" { (e.message) }
        }
        div.table-wrap tabindex="0" role="region" aria-label="Users" {
            table {
                thead { tr { th { "User" } th { "Roles" } th { "State" } th { "Since" } th { "Change" } } }
                tbody {
                    @for u in &all {
                        tr {
                            td { (u.username) }
                            td { (u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { @if u.is_active { (badge("Active")) } @else { (badge("Disabled")) } }
                            td { (date(&u.created_on)) }
                            td {
                                details.confirm {
                                    summary.button role="button" { "Change " (u.username) "…" }
                                    form method="post" action={ (PREFIX) "/admin/users/" (u.id) "/roles" } {
                                        (csrf(signed))
                                        fieldset {
                                            legend { "Roles of " (u.username) }
                                            @for r in Role::ALL {
                                                @let id = format!("roles-{}-{}", u.id, r.as_str());
                                                div.choice {
                                                    input id=(id) type="checkbox" name="roles" value=(r.as_str()) checked[u.roles.contains(r)];
                                                    label for=(id) { (r.as_str()) }
                                                }
                                            }
                                        }
                                        button type="submit" { "Save roles" }
                                    }
                                    form method="post" action={ (PREFIX) "/admin/users/" (u.id) "/password" } {
                                        (csrf(signed))
                                        @let id = format!("password-{}", u.id);
                                        div.field {
                                            label for=(id) { "New password for " (u.username) }
                                            input id=(id) name="password" type="password" autocomplete="new-password" required minlength="10";
                                        }
                                        button type="submit" { "Reset password" }
                                    }
                                    @if u.is_active && u.roles.contains(&Role::Admin) && active_admins <= 1 {
                                        p.muted { (u.username) " is the only active admin and cannot be disabled: make another user an admin first." }
                                    } @else if u.is_active {
                                        form method="post" action={ (PREFIX) "/admin/users/" (u.id) "/disable" } {
                                            (csrf(signed))
                                            p { (u.username) " is signed out everywhere and cannot sign in until enabled again." }
                                            @let confirm_id = format!("confirm-disable-{}", u.id);
                                            div.choice {
                                                input id=(confirm_id) type="checkbox" name="confirm" value="yes" required;
                                                label for=(confirm_id) { "Yes, disable " (u.username) }
                                            }
                                            button.primary.danger type="submit" { "Disable " (u.username) }
                                        }
                                    } @else {
                                        form method="post" action={ (PREFIX) "/admin/users/" (u.id) "/enable" } {
                                            (csrf(signed))
                                            button type="submit" { "Enable " (u.username) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.card method="post" action={ (PREFIX) "/admin/users" } aria-label="New user" {
            h2 { "New user" }
            (csrf(signed))
            div.filters {
                (input_field("Username", "username", new_user.and_then(|f| f.get("username")).unwrap_or_default(), "text", errors))
                (input_field("Password", "password", "", "password", errors))
            }
            fieldset {
                legend { "Roles" }
                @for r in Role::ALL {
                    @let id = format!("new-role-{}", r.as_str());
                    div.choice {
                        input id=(id) type="checkbox" name="roles" value=(r.as_str()) checked[new_role(r)];
                        label for=(id) { (r.as_str()) }
                    }
                }
            }
            button.primary type="submit" { "Create user" }
        }
    };
    Ok(Page {
        title: "Users",
        crumbs: &[("Dashboard", "/app/")],
        signed: Some(signed),
        section: "admin",
    }
    .render_with(status, content))
}

async fn create(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(ADMINS)
        .open(&state, &signed, &body)
        .await?;
    let request = NewUserRequest {
        username: sent.get("username").unwrap_or_default().to_string(),
        password: sent.raw("password"),
        roles: roles_of(&sent.form),
    };
    let typed = sent.form.clone();
    let mut tx = sent.begin().await?;
    let created = service::create_user(
        &mut tx,
        &request,
        state.hash_cost,
        signed.user(),
        state.clock.now(),
    )
    .await;
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        created,
        |user| {
            Done::to(
                users_page("created", user.id),
                format!("user {}", user.username),
            )
        },
        async |errors| render(state, signed, &errors, Some(&typed), None, StatusCode::OK).await,
    )
    .await
}

/// The users page with the notice of what was done to user `id` (a word of [`notice`]).
fn users_page(done: &str, id: i64) -> String {
    format!("{PREFIX}/admin/users?done={done}&user={id}")
}

/// The notice a users page shows after an action: one of a fixed set of messages, naming the
/// user as recorded (never text taken from the address).
async fn notice(
    state: &AppState,
    query: &crate::api::extract::RawQuery,
) -> Result<Option<String>, PageError> {
    let (Some(done), Some(id)) = (
        query.get("done"),
        query.get("user").and_then(|u| u.parse::<i64>().ok()),
    ) else {
        return Ok(None);
    };
    let Some(user) = repo::list(state.db.reader())
        .await?
        .into_iter()
        .find(|u| u.id == id)
    else {
        return Ok(None);
    };
    let name = &user.username;
    Ok(match done {
        "created" => Some(format!("User {name} created.")),
        "roles" => Some(format!("Roles of {name} saved.")),
        "password" => Some(format!("Password of {name} reset; their sessions ended.")),
        "disabled" => Some(format!("User {name} disabled.")),
        "enabled" => Some(format!("User {name} enabled.")),
        _ => None,
    })
}

async fn change(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(i64, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(ADMINS)
        .open(&state, &signed, &body)
        .await?;
    let now = state.clock.now();
    let mut tx = sent.begin().await?;
    let user = signed.user();
    let done = match action.as_str() {
        "roles" => service::set_roles(&mut tx, id, &roles_of(&sent.form), user, now)
            .await
            .map(|_| "roles"),
        "password" => service::reset_password(
            &mut tx,
            id,
            &sent.raw("password"),
            state.hash_cost,
            user,
            now,
        )
        .await
        .map(|_| "password"),
        "disable" if sent.get("confirm") != Some("yes") => Err(AppError::field(
            "confirm",
            "tick the box to confirm disabling the user",
        )),
        "disable" => service::set_active(&mut tx, id, false, user, now)
            .await
            .map(|_| "disabled"),
        "enable" => service::set_active(&mut tx, id, true, user, now)
            .await
            .map(|_| "enabled"),
        other => return Err(AppError::NotFound(format!("no such action: {other}")).into()),
    };
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        done,
        |done| Done::to(users_page(done, id), format!("the change of user {id}")),
        async |errors| render(state, signed, &errors, None, None, StatusCode::OK).await,
    )
    .await
}
