//! Workshop business actions, one transaction each (the caller commits), each audited; and
//! which workshop a new repair invoice is recorded at.

use chrono::{DateTime, Utc};
use domain::status::{WorkshopKind, WorkshopType};

use super::model::{name_key, Workshop, WorkshopInput, WorkshopUpdate};
use super::repo::{self, WorkshopRow};
use crate::audit;
use crate::db::{timestamp, Tx};
use crate::error::{AppError, FieldError};

/// A workshop's details, checked.
struct Details {
    name: String,
    kind: WorkshopKind,
    address: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    tax_registration_no: Option<String>,
}

impl Details {
    fn row(&self) -> WorkshopRow<'_> {
        WorkshopRow {
            name: &self.name,
            name_key: "",
            kind: self.kind,
            address: self.address.as_deref(),
            phone: self.phone.as_deref(),
            email: self.email.as_deref(),
            tax_registration_no: self.tax_registration_no.as_deref(),
        }
    }

    fn audited(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name, "kind": self.kind, "address": self.address, "phone": self.phone,
            "email": self.email, "tax_registration_no": self.tax_registration_no,
        })
    }

    fn of(w: &Workshop) -> Details {
        Details {
            name: w.name.clone(),
            kind: w.kind,
            address: w.address.clone(),
            phone: w.phone.clone(),
            email: w.email.clone(),
            tax_registration_no: w.tax_registration_no.clone(),
        }
    }
}

/// Checks what was sent of a workshop's details over `base` (a change) or nothing (a new
/// one); every problem at once.
fn checked(
    base: Option<&Workshop>,
    name: Option<&str>,
    kind: Option<&str>,
    optional: [(&'static str, Option<&String>); 4],
) -> Result<Details, AppError> {
    let mut errors = Vec::new();
    let mut details = base.map(Details::of).unwrap_or(Details {
        name: String::new(),
        kind: WorkshopKind::External,
        address: None,
        phone: None,
        email: None,
        tax_registration_no: None,
    });
    if let Some(name) = name {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > 120 {
            errors.push(FieldError::new("name", "must be at most 120 characters"));
        }
        details.name = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if let Some(kind) = kind {
        match WorkshopKind::parse(kind.trim()) {
            Some(k) => details.kind = k,
            None => errors.push(FieldError::new(
                "kind",
                format!(
                    "'{kind}' is not one of: {}",
                    WorkshopKind::all_words().join(", ")
                ),
            )),
        }
    }
    for (field, value) in optional {
        let Some(value) = value else { continue };
        let cleaned = match field {
            "phone" => domain::input::phone(value),
            "email" => domain::input::email(value),
            _ => {
                let limit = if field == "address" { 300 } else { 40 };
                if value.chars().count() > limit {
                    Err(if limit == 300 {
                        "must be at most 300 characters"
                    } else {
                        "must be at most 40 characters"
                    })
                } else {
                    Ok(Some(value.trim().to_string()).filter(|v| !v.is_empty()))
                }
            }
        };
        match cleaned {
            Err(message) => errors.push(FieldError::new(field, message)),
            Ok(v) => match field {
                "address" => details.address = v,
                "phone" => details.phone = v,
                "email" => details.email = v,
                _ => details.tax_registration_no = v,
            },
        }
    }
    if errors.is_empty() {
        Ok(details)
    } else {
        Err(AppError::Validation(errors))
    }
}

async fn name_is_free(tx: &mut Tx, name: &str, except: Option<i64>) -> Result<String, AppError> {
    let key = name_key(name);
    if let Some((id, other)) = repo::name_taken(tx, &key, except).await? {
        return Err(AppError::Conflict(format!(
            "name: workshop {id} is already called '{other}' (names are compared in any letter case)"
        )));
    }
    Ok(key)
}

/// Registers a workshop (active).
pub async fn create(
    tx: &mut Tx,
    input: &WorkshopInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let details = checked(
        None,
        Some(&input.name),
        Some(&input.kind),
        [
            ("address", input.address.as_ref()),
            ("phone", input.phone.as_ref()),
            ("email", input.email.as_ref()),
            ("tax_registration_no", input.tax_registration_no.as_ref()),
        ],
    )?;
    let key = name_is_free(tx, &details.name, None).await?;
    let now_text = timestamp(now);
    let id = repo::insert(
        tx,
        &WorkshopRow {
            name_key: &key,
            ..details.row()
        },
        actor,
        &now_text,
    )
    .await?;
    let id_text = id.to_string();
    let entry = audit::Entry::new(actor, "workshop_created", "workshop", &id_text)
        .details(details.audited());
    audit::record(tx, entry, now).await?;
    Ok(id)
}

/// Changes a workshop's details. Its kind changes only while no invoice names it, and a
/// default workshop keeps its kind.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    update: &WorkshopUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let before = repo::lock(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no workshop with id {id}")))?;
    let sent = [
        update.name.is_some(),
        update.kind.is_some(),
        update.address.is_some(),
        update.phone.is_some(),
        update.email.is_some(),
        update.tax_registration_no.is_some(),
    ];
    if !sent.contains(&true) {
        return Err(AppError::field("body", "names nothing to change"));
    }
    let after = checked(
        Some(&before),
        update.name.as_deref(),
        update.kind.as_deref(),
        [
            ("address", update.address.as_ref()),
            ("phone", update.phone.as_ref()),
            ("email", update.email.as_ref()),
            ("tax_registration_no", update.tax_registration_no.as_ref()),
        ],
    )?;
    if after.kind != before.kind {
        if before.is_default {
            return Err(AppError::Conflict(format!(
                "kind: {} is the default {} workshop (the one `workshop_type` '{}' picks); its kind does not change",
                before.name,
                before.kind.label().to_lowercase(),
                before.kind.workshop_type()
            )));
        }
        if crate::repairs::repo::workshop_has_invoices(tx, id).await? {
            return Err(AppError::Conflict(format!(
                "kind: {} has repair invoices recorded as {}; its kind does not change (register another workshop instead)",
                before.name,
                before.kind.label().to_lowercase()
            )));
        }
    }
    let key = name_is_free(tx, &after.name, Some(id)).await?;
    repo::update(
        tx,
        id,
        &WorkshopRow {
            name_key: &key,
            ..after.row()
        },
        actor,
        &timestamp(now),
    )
    .await?;
    let id_text = id.to_string();
    let entry = audit::Entry::new(actor, "workshop_updated", "workshop", &id_text).details(
        serde_json::json!({"before": Details::of(&before).audited(), "after": after.audited()}),
    );
    audit::record(tx, entry, now).await?;
    Ok(())
}

/// Deactivates (`active` false) or activates a workshop. An inactive workshop cannot be
/// chosen for a new invoice; its invoices keep it. A default workshop stays active: the
/// guide's `workshop_type` alone must always find it.
pub async fn set_active(
    tx: &mut Tx,
    id: i64,
    active: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Workshop, AppError> {
    let before = repo::lock(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no workshop with id {id}")))?;
    if !active && before.is_default {
        return Err(AppError::Conflict(format!(
            "{} is the default {} workshop (invoices given only workshop_type '{}' are recorded there); it stays active",
            before.name,
            before.kind.label().to_lowercase(),
            before.kind.workshop_type()
        )));
    }
    if before.active != active {
        repo::set_active(tx, id, active, actor, &timestamp(now)).await?;
        let action = if active {
            "workshop_activated"
        } else {
            "workshop_deactivated"
        };
        let id_text = id.to_string();
        let entry = audit::Entry::new(actor, action, "workshop", &id_text)
            .details(serde_json::json!({"name": before.name}));
        audit::record(tx, entry, now).await?;
    }
    Ok(Workshop { active, ..before })
}

/// The workshop a new repair invoice is recorded at: `workshop_id` when given (active, and
/// of the kind `workshop_type` names if both are sent), else the default workshop of
/// `workshop_type`'s kind. Problems point into the step's `/data`.
pub async fn for_new_invoice(
    tx: &mut Tx,
    workshop_id: Option<i64>,
    workshop_type: Option<WorkshopType>,
) -> Result<Result<Workshop, FieldError>, AppError> {
    let refuse =
        |field: &str, message: String| Ok(Err(FieldError::at(format!("/data/{field}"), message)));
    let id = match (workshop_id, workshop_type) {
        (Some(id), _) => id,
        (None, Some(t)) => match repo::default_of(tx, t.kind()).await? {
            Some(id) => id,
            None => {
                return refuse(
                    "workshop_type",
                    format!("no default workshop is registered for '{t}'"),
                )
            }
        },
        (None, None) => {
            return refuse(
                "workshop_id",
                "is required (or workshop_type, for that kind's default workshop)".into(),
            )
        }
    };
    let Some(workshop) = repo::hold_for_invoice(tx, id).await? else {
        return refuse("workshop_id", format!("no workshop with id {id}"));
    };
    if let Some(t) = workshop_type {
        if t.kind() != workshop.kind {
            return refuse(
                "workshop_type",
                format!(
                    "is '{t}' but workshop {id} ({}) is {}, whose workshop_type is '{}'; send the one or leave workshop_type out",
                    workshop.name,
                    workshop.kind,
                    workshop.kind.workshop_type()
                ),
            );
        }
    }
    if !workshop.active {
        return refuse(
            "workshop_id",
            format!(
                "workshop {id} ({}) is inactive; choose an active workshop",
                workshop.name
            ),
        );
    }
    Ok(Ok(workshop))
}

/// The active workshops a clerk may choose for a new invoice: id, name and kind.
pub async fn choices(pool: &sqlx::AnyPool) -> Result<Vec<(i64, String, WorkshopKind)>, AppError> {
    Ok(repo::choices(pool).await?)
}

/// Every workshop (at most 100, defaults first): id and name, for a list's filter.
pub async fn all(pool: &sqlx::AnyPool, ilike: &str) -> Result<Vec<(i64, String)>, AppError> {
    let page = crate::db::PageRequest {
        page: 1,
        per_page: 100,
    };
    let (items, _) = repo::list(pool, ilike, &Default::default(), page).await?;
    Ok(items.into_iter().map(|w| (w.id, w.name)).collect())
}
