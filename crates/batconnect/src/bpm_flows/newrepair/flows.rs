//! The "Create Repair Invoice" flow (case type `RPRINV`, step `REPAIR_ENTER_DETAILS`):
//! fetch finds the driver by TLC license and the active leases they manage; process
//! previews or records the invoice.

use std::sync::Arc;

use serde_json::json;

use crate::auth::model::OPERATORS;
use crate::bpm::engine::{AfterCommit, BoxFuture};
use crate::bpm::{FetchContext, FlowDef, ProcessContext, StepDef, StepHandler};
use crate::db::Tx;
use crate::error::AppError;
use crate::fleet::repo as fleet_repo;
use crate::repairs::model::EnterDetails;
use crate::repairs::service;

pub const STEP_ENTER_DETAILS: &str = "REPAIR_ENTER_DETAILS";
pub const SCHEMA_ENTER_DETAILS: &str = "newrepair/schemas/enter_details.json";

pub fn flow() -> FlowDef {
    FlowDef {
        case_type_name: "Repair Invoice",
        prefix: crate::repairs::model::CASE_PREFIX,
        steps: vec![StepDef {
            step_id: STEP_ENTER_DETAILS,
            name: "Enter repair invoice details",
            allowed_roles: OPERATORS,
            default_schema: SCHEMA_ENTER_DETAILS,
            handler: Arc::new(EnterDetailsStep),
        }],
    }
}

struct EnterDetailsStep;

impl StepHandler for EnterDetailsStep {
    fn fetch<'a>(
        &'a self,
        ctx: FetchContext<'a>,
    ) -> BoxFuture<'a, Result<serde_json::Value, AppError>> {
        Box::pin(async move {
            let pool = ctx.db.reader();
            let invoice: Option<String> =
                crate::repairs::repo::repair_id_of_case(pool, &ctx.case.case_no).await?;
            let Some(tlc) = ctx
                .query
                .get("tlc_license_no")
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
            else {
                return Ok(json!({ "driver": null, "leases": [], "repair_id": invoice }));
            };
            let Some(driver) = fleet_repo::driver_by_tlc(pool, tlc).await? else {
                return Ok(json!({ "driver": null, "leases": [], "repair_id": invoice }));
            };
            let leases: Vec<serde_json::Value> = fleet_repo::managed_active_leases(pool, driver.id)
                .await?
                .into_iter()
                .map(|l| {
                    json!({
                        "id": l.id,
                        "lease_id": l.lease_id,
                        "lease_type_label": domain::status::LeaseType::parse(&l.lease_type).map(|t| t.label()),
                        "lease_type": l.lease_type,
                        "status": l.status,
                        "medallion_id": l.medallion_id,
                        "medallion_number": l.medallion_number,
                        "vehicle_id": l.vehicle_id,
                        "vin": l.vin,
                        "plate_number": l.plate_number,
                        "vehicle": l.vehicle,
                        "weekly_amount": l.weekly_rate,
                    })
                })
                .collect();
            Ok(json!({
                "driver": {
                    "id": driver.id,
                    "driver_id": driver.driver_id,
                    "full_name": driver.full_name,
                    "status": driver.status,
                    "tlc_license_no": driver.tlc_license_no,
                    "phone": driver.phone,
                    "email": driver.email,
                },
                "leases": leases,
                "repair_id": invoice,
            }))
        })
    }

    fn process<'a>(
        &'a self,
        ctx: ProcessContext<'a>,
        tx: &'a mut Tx,
        data: serde_json::Value,
    ) -> BoxFuture<'a, Result<serde_json::Value, AppError>> {
        Box::pin(async move {
            let details = EnterDetails::parse(&data).map_err(AppError::Validation)?;
            let rules = service::Rules::from_config(ctx.config);
            if details.preview_only {
                let checked = service::check(tx, &details, ctx.now, rules).await?;
                return Ok(serde_json::to_value(service::preview(&details, &checked))
                    .map_err(anyhow::Error::from)?);
            }
            let created = service::create_invoice(
                tx,
                &details,
                Some(&ctx.case.case_no),
                ctx.user,
                ctx.now,
                rules,
            )
            .await?;
            Ok(serde_json::to_value(created).map_err(anyhow::Error::from)?)
        })
    }

    /// The receipt is made once the invoice is committed (a failure here is retried by
    /// the first download, see `repairs::receipt`).
    fn after_commit<'a>(
        &'a self,
        ctx: AfterCommit<'a>,
        output: &'a serde_json::Value,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(repair_id) = output.get("repair_id").and_then(|v| v.as_str()) else {
                return;
            };
            let receipts = crate::repairs::receipt::Receipts {
                db: ctx.cases.db,
                storage: ctx.cases.storage,
                fleet_name: &ctx.cases.config.fleet_name,
                timezone: ctx.cases.config.timezone,
            };
            if let Err(error) = crate::repairs::receipt::ensure_stored(
                receipts,
                repair_id,
                &ctx.user.username,
                ctx.now,
            )
            .await
            {
                tracing::warn!(repair_id, case_no = ctx.case.case_no, error = %error, "receipt not stored after invoice creation; the first download will make it");
            }
        })
    }
}
