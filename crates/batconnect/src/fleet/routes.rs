//! HTTP for the fleet registry (tag "Fleet").

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::status::{DriverStatus, LeaseStatus, LeaseType};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{Driver, DriverInput, Lease, Medallion, MedallionInput, Vehicle, VehicleInput};
use super::{repo, service};
use crate::api::extract::{JsonBody, RawQuery};
use crate::auth::model::{CurrentUser, OPERATORS, READERS};
use crate::db::{Page, PageRequest};
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_drivers, create_driver))
        .routes(routes!(get_driver, update_driver))
        .routes(routes!(list_medallions, create_medallion))
        .routes(routes!(get_medallion))
        .routes(routes!(list_vehicles, create_vehicle))
        .routes(routes!(get_vehicle, update_vehicle))
        .routes(routes!(list_leases, create_lease))
        .routes(routes!(get_lease, update_lease))
        .routes(routes!(terminate_lease))
}

fn parse_word(
    query: &RawQuery,
    name: &str,
    allowed: Vec<&'static str>,
) -> Result<Option<String>, AppError> {
    match query.get(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(AppError::field(
            name,
            format!("'{v}' is not one of: {}", allowed.join(", ")),
        )),
    }
}

/// Search drivers by TLC license (exact), name (partial, any case) or status.
#[utoipa::path(get, path = "/fleet/drivers", tag = "Fleet",
    params(("tlc_license_no" = Option<String>, Query), ("name" = Option<String>, Query), ("status" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Driver>), (status = 422, body = Problem)))]
async fn list_drivers(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Driver>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["tlc_license_no", "name", "status", "page", "per_page"])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let filter = repo::DriverFilter {
        tlc_license_no: query.get("tlc_license_no").map(str::to_string),
        name: query.get("name").map(str::to_string),
        status: parse_word(&query, "status", DriverStatus::all_words())?,
    };
    let (items, total) =
        repo::list_drivers(state.db.reader(), state.db.ilike(), &filter, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Register a driver.
#[utoipa::path(post, path = "/fleet/drivers", tag = "Fleet", request_body = DriverInput,
    responses((status = 201, body = Driver), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_driver(
    State(state): State<AppState>,
    user: CurrentUser,
    raw_input: JsonBody,
) -> Result<(StatusCode, Json<Driver>), AppError> {
    user.require(OPERATORS)?;
    let input: DriverInput = raw_input.parse()?;
    let mut tx = state.db.begin().await?;
    let id = service::create_driver(&mut tx, &input, &user, state.clock.now()).await?;
    tx.commit().await?;
    let driver = repo::driver_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound("driver vanished".into()))?;
    Ok((StatusCode::CREATED, Json(driver)))
}

/// One driver by internal id.
#[utoipa::path(get, path = "/fleet/drivers/{id}", tag = "Fleet", params(("id" = i64, Path)),
    responses((status = 200, body = Driver), (status = 404, body = Problem)))]
async fn get_driver(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Driver>, AppError> {
    user.require(READERS)?;
    repo::driver_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no driver with id {id}")))
}

/// List medallions, optionally by number.
#[utoipa::path(get, path = "/fleet/medallions", tag = "Fleet",
    params(("medallion_number" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Medallion>)))]
async fn list_medallions(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Medallion>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["medallion_number", "page", "per_page"])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let number = query
        .get("medallion_number")
        .map(|n| n.to_ascii_uppercase());
    let (items, total) = repo::list_medallions(state.db.reader(), number.as_deref(), page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Register a medallion.
#[utoipa::path(post, path = "/fleet/medallions", tag = "Fleet", request_body = MedallionInput,
    responses((status = 201, body = Medallion), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_medallion(
    State(state): State<AppState>,
    user: CurrentUser,
    raw_input: JsonBody,
) -> Result<(StatusCode, Json<Medallion>), AppError> {
    user.require(OPERATORS)?;
    let input: MedallionInput = raw_input.parse()?;
    let mut tx = state.db.begin().await?;
    let id = service::create_medallion(&mut tx, &input, &user, state.clock.now()).await?;
    tx.commit().await?;
    let m = repo::medallion_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound("medallion vanished".into()))?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// One medallion by internal id.
#[utoipa::path(get, path = "/fleet/medallions/{id}", tag = "Fleet", params(("id" = i64, Path)),
    responses((status = 200, body = Medallion), (status = 404, body = Problem)))]
async fn get_medallion(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Medallion>, AppError> {
    user.require(READERS)?;
    repo::medallion_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no medallion with id {id}")))
}

/// List vehicles, optionally by VIN or plate.
#[utoipa::path(get, path = "/fleet/vehicles", tag = "Fleet",
    params(("vin" = Option<String>, Query), ("plate_number" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Vehicle>)))]
async fn list_vehicles(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Vehicle>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["vin", "plate_number", "page", "per_page"])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let vin = query.get("vin").map(|v| v.to_ascii_uppercase());
    let plate = query.get("plate_number").map(|v| v.to_ascii_uppercase());
    let (items, total) =
        repo::list_vehicles(state.db.reader(), vin.as_deref(), plate.as_deref(), page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Register a vehicle with its current plate.
#[utoipa::path(post, path = "/fleet/vehicles", tag = "Fleet", request_body = VehicleInput,
    responses((status = 201, body = Vehicle), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_vehicle(
    State(state): State<AppState>,
    user: CurrentUser,
    raw_input: JsonBody,
) -> Result<(StatusCode, Json<Vehicle>), AppError> {
    user.require(OPERATORS)?;
    let input: VehicleInput = raw_input.parse()?;
    let mut tx = state.db.begin().await?;
    let id = service::create_vehicle(&mut tx, &input, &user, state.clock.now()).await?;
    tx.commit().await?;
    let v = repo::vehicle_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound("vehicle vanished".into()))?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// One vehicle by internal id.
#[utoipa::path(get, path = "/fleet/vehicles/{id}", tag = "Fleet", params(("id" = i64, Path)),
    responses((status = 200, body = Vehicle), (status = 404, body = Problem)))]
async fn get_vehicle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vehicle>, AppError> {
    user.require(READERS)?;
    repo::vehicle_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no vehicle with id {id}")))
}

/// List leases by status, type, medallion or driver (`managed_only=true`: leases the driver manages).
#[utoipa::path(get, path = "/fleet/leases", tag = "Fleet",
    params(("status" = Option<String>, Query), ("lease_type" = Option<String>, Query), ("medallion_number" = Option<String>, Query),
           ("driver_id" = Option<String>, Query, description = "internal id or driver id"), ("managed_only" = Option<bool>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Lease>), (status = 422, body = Problem)))]
async fn list_leases(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Lease>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&[
        "status",
        "lease_type",
        "medallion_number",
        "driver_id",
        "managed_only",
        "page",
        "per_page",
    ])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    // The driver by internal id or driver id (the one rule of naming): one driver.
    let driver_id = match query.get("driver_id") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let found = repo::ids_named(
                    state.db.reader(),
                    repo::FleetTable::Drivers,
                    &[v.to_string()],
                    None,
                )
                .await?;
                match found.as_slice() {
                    [] => Some(-1),
                    [one] => Some(*one),
                    many => {
                        return Err(AppError::field(
                            "driver_id",
                            format!(
                                "'{v}' names {} drivers; give the whole driver id",
                                many.len()
                            ),
                        ))
                    }
                }
            }
        },
    };
    let managed_only = match query.get("managed_only") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::field("managed_only", "must be true or false")),
    };
    let filter = repo::LeaseFilter {
        status: parse_word(&query, "status", LeaseStatus::all_words())?,
        lease_type: parse_word(&query, "lease_type", LeaseType::all_words())?,
        medallion_number: query
            .get("medallion_number")
            .map(|n| n.to_ascii_uppercase()),
        driver_id,
        managed_only,
        search: None,
    };
    let (items, total) = repo::list_leases(state.db.reader(), &filter, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Create a lease with its drivers (exactly one driver manager).
#[utoipa::path(post, path = "/fleet/leases", tag = "Fleet", request_body = crate::fleet::model::LeaseRequest,
    responses((status = 201, body = Lease), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_lease(
    State(state): State<AppState>,
    user: CurrentUser,
    raw_input: JsonBody,
) -> Result<(StatusCode, Json<Lease>), AppError> {
    user.require(OPERATORS)?;
    let request: crate::fleet::model::LeaseRequest = raw_input.parse()?;
    let mut tx = state.db.begin().await?;
    let input = service::resolve_lease_request(&mut tx, &request).await?;
    let id = service::create_lease(&mut tx, &input, &user, state.clock.now()).await?;
    tx.commit().await?;
    let lease = repo::lease_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound("lease vanished".into()))?;
    Ok((StatusCode::CREATED, Json(lease)))
}

/// One lease with its drivers, by internal id.
#[utoipa::path(get, path = "/fleet/leases/{id}", tag = "Fleet", params(("id" = i64, Path)),
    responses((status = 200, body = Lease), (status = 404, body = Problem)))]
async fn get_lease(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Lease>, AppError> {
    user.require(READERS)?;
    repo::lease_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no lease with id {id}")))
}

/// End a lease (operations): it becomes `Expired` (reason `completed`) or `Terminated`, its
/// medallion is free again; the rent of its last week is prorated to the days up to
/// `end_date` (rent already posted is corrected with credit entries, never refunded as
/// cash); an early termination adds the fee as a `Cancellation Fee` obligation; its Open
/// repair invoices have their remaining installments posted at once, due `end_date`; the
/// next Sunday chain makes its final statement. `id`: internal id or lease id (`LS-01001`).
#[utoipa::path(post, path = "/fleet/leases/{id}/terminate", tag = "Fleet", request_body = crate::fleet::lease_end::TerminateRequest,
    params(("id" = String, Path, description = "internal id or lease id")),
    responses((status = 200, body = crate::fleet::lease_end::TerminationOutcome), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn terminate_lease(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<crate::fleet::lease_end::TerminationOutcome>, AppError> {
    user.require(OPERATORS)?;
    let request: crate::fleet::lease_end::TerminateRequest = body.parse()?;
    let pk = repo::lease_pk(state.db.reader(), &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no lease {id}")))?;
    let terms = crate::fleet::lease_end::Terms {
        early_termination_fee: state.config.early_termination_fee,
        timezone: state.config.timezone,
    };
    let mut tx = state.db.begin().await?;
    let outcome = crate::fleet::lease_end::terminate(
        &mut tx,
        pk,
        &request,
        terms,
        &user.username,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(outcome))
}

/// Change a driver's phone, email or status (operations). A field left out stays; `phone`
/// or `email` given as `""` is cleared. Audited.
#[utoipa::path(patch, path = "/fleet/drivers/{id}", tag = "Fleet", params(("id" = i64, Path)),
    request_body = super::edit::DriverUpdate,
    responses((status = 200, body = Driver), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_driver(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Json<Driver>, AppError> {
    user.require(OPERATORS)?;
    let update: super::edit::DriverUpdate = body.parse()?;
    let mut tx = state.db.begin().await?;
    super::edit::update_driver(&mut tx, id, &update, &user.username, state.clock.now()).await?;
    tx.commit().await?;
    repo::driver_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no driver with id {id}")))
}

/// Change or clear a vehicle's plate (operations). Audited.
#[utoipa::path(patch, path = "/fleet/vehicles/{id}", tag = "Fleet", params(("id" = i64, Path)),
    request_body = super::edit::VehicleUpdate,
    responses((status = 200, body = Vehicle), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_vehicle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Json<Vehicle>, AppError> {
    user.require(OPERATORS)?;
    let update: super::edit::VehicleUpdate = body.parse()?;
    let mut tx = state.db.begin().await?;
    super::edit::update_vehicle(&mut tx, id, &update, &user.username, state.clock.now()).await?;
    tx.commit().await?;
    repo::vehicle_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no vehicle with id {id}")))
}

/// Replace a lease's additional drivers (operations): the driver manager stays; an ended
/// lease does not change (409). Audited.
#[utoipa::path(patch, path = "/fleet/leases/{id}", tag = "Fleet", params(("id" = i64, Path)),
    request_body = super::edit::LeaseUpdate,
    responses((status = 200, body = Lease), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_lease(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Json<Lease>, AppError> {
    user.require(OPERATORS)?;
    let update: super::edit::LeaseUpdate = body.parse()?;
    let mut tx = state.db.begin().await?;
    super::edit::update_lease(&mut tx, id, &update, &user.username, state.clock.now()).await?;
    tx.commit().await?;
    repo::lease_by_id(state.db.reader(), id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no lease with id {id}")))
}
