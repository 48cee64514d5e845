//! The wizard's line items: rows the clerk adds and removes, each line's amount, the
//! subtotals, the tax and the total. Without JavaScript, "Add a line" and "Remove" send the
//! form and it comes back with the row added or taken out (nothing is saved); with it
//! (console.js) rows are added and removed in place and the figures follow what is typed,
//! computed as the server does (half-up to the cent, tax once on the taxable base).
//!
//! Rows are numbered by the form (`line_kind_3`, …); the numbers need not be contiguous.
//! A row left entirely blank is not a line.

use domain::invoice_lines::{self, Line, LineKind, Quantity, Subtotals, TaxRate};
use domain::money::Money;
use maud::{html, Markup};

use crate::error::FieldError;
use crate::web::layout::money;
use crate::web::FieldErrors;

/// The fields of a row, named `line_<field>_<row>`.
const FIELDS: [&str; 6] = [
    "kind",
    "description",
    "part_number",
    "quantity",
    "unit_price",
    "taxable",
];

/// A row as typed.
#[derive(Debug, Clone, Default)]
pub struct EnteredLine {
    pub row: usize,
    pub kind: String,
    pub description: String,
    pub part_number: String,
    pub quantity: String,
    pub unit_price: String,
    pub taxable: bool,
}

impl EnteredLine {
    fn is_blank(&self) -> bool {
        self.description.is_empty()
            && self.part_number.is_empty()
            && self.quantity.is_empty()
            && self.unit_price.is_empty()
    }

    /// The line, when every part of it reads.
    fn line(&self) -> Option<Line> {
        Some(Line {
            kind: LineKind::parse(&self.kind)?,
            description: self.description.clone(),
            part_number: None,
            quantity: Quantity::parse(&self.quantity).ok()?,
            unit_price: Money::parse_amount(&crate::web::money_typed(&self.unit_price)).ok()?,
            taxable: self.taxable,
        })
    }

    /// The step's line: what was typed, money as people type it.
    fn step_data(&self) -> serde_json::Value {
        let mut line = serde_json::json!({
            "kind": self.kind,
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": crate::web::money_typed(&self.unit_price),
            "taxable": self.taxable,
        });
        if !self.part_number.is_empty() {
            line["part_number"] = self.part_number.clone().into();
        }
        line
    }
}

/// The rows of a sent form (`pairs` in the order sent), by row number.
pub fn rows_of(pairs: &[(String, String)]) -> Vec<EnteredLine> {
    let mut rows: Vec<EnteredLine> = Vec::new();
    for (name, value) in pairs {
        let Some(rest) = name.strip_prefix("line_") else {
            continue;
        };
        let Some((field, row)) = rest.rsplit_once('_') else {
            continue;
        };
        let (Ok(row), true) = (row.parse::<usize>(), FIELDS.contains(&field)) else {
            continue;
        };
        if row > 10_000 {
            continue;
        }
        let at = match rows.iter().position(|r| r.row == row) {
            Some(at) => at,
            None => {
                rows.push(EnteredLine {
                    row,
                    kind: "part".into(),
                    ..EnteredLine::default()
                });
                rows.len() - 1
            }
        };
        let line = &mut rows[at];
        let value = value.trim().to_string();
        match field {
            "kind" => line.kind = value,
            "description" => line.description = value,
            "part_number" => line.part_number = value,
            "quantity" => line.quantity = value,
            "unit_price" => line.unit_price = value,
            _ => line.taxable = value == "yes",
        }
    }
    rows.sort_by_key(|r| r.row);
    rows
}

/// What "Add a line" or "Remove" asks of the rows: `Some` with the rows to show again.
pub fn edited(action: Option<&str>, mut rows: Vec<EnteredLine>) -> Option<Vec<EnteredLine>> {
    match action? {
        "add_line" => {
            let row = rows.iter().map(|r| r.row + 1).max().unwrap_or(0);
            rows.push(EnteredLine {
                row,
                kind: "part".into(),
                quantity: "1".into(),
                ..EnteredLine::default()
            });
            Some(rows)
        }
        other => {
            let row: usize = other.strip_prefix("remove_line_")?.parse().ok()?;
            rows.retain(|r| r.row != row);
            Some(rows)
        }
    }
}

/// The lines for the step's data (blank rows left out), and which row each one is.
pub fn step_lines(rows: &[EnteredLine]) -> (Vec<serde_json::Value>, Vec<usize>) {
    rows.iter()
        .filter(|r| !r.is_blank())
        .map(|r| (r.step_data(), r.row))
        .unzip()
}

/// The step's errors about lines, put beside the rows they belong to: `/data/line_items/2/
/// quantity` becomes `line_quantity_<row>`, a line's own problem `line_<row>`.
pub fn beside_rows(errors: FieldErrors, rows: &[usize]) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|e| {
                let Some(rest) = e
                    .pointer
                    .as_deref()
                    .and_then(|p| p.strip_prefix("/data/line_items/"))
                else {
                    return match e.pointer.as_deref() {
                        Some("/data/line_items") => FieldError::new("line_items", e.message),
                        Some("/data/workshop_type") => FieldError::new("workshop_id", e.message),
                        _ => e,
                    };
                };
                let (index, field) = rest.split_once('/').unwrap_or((rest, ""));
                let row = index.parse::<usize>().ok().and_then(|i| rows.get(i));
                match (row, field) {
                    (Some(row), "") => FieldError::new(format!("line_{row}"), e.message),
                    (Some(row), field) => FieldError::new(format!("line_{field}_{row}"), e.message),
                    (None, _) => FieldError::new("line_items", e.message),
                }
            })
            .collect(),
    )
}

/// The subtotals the rows that read would make, for the figures under the table.
fn figures(rows: &[EnteredLine], tax_rate: &str) -> Option<Subtotals> {
    let lines: Vec<Line> = rows
        .iter()
        .filter(|r| !r.is_blank())
        .map(EnteredLine::line)
        .collect::<Option<_>>()?;
    if lines.is_empty() {
        return None;
    }
    let rate = if tax_rate.trim().is_empty() {
        TaxRate::ZERO
    } else {
        TaxRate::parse(tax_rate).ok()?
    };
    invoice_lines::totals(&lines, rate).ok()
}

/// The total the rows make, when they make one (what the wizard compares a resent form
/// with when no total was typed).
pub fn total_of(rows: &[EnteredLine], tax_rate: &str) -> Option<Money> {
    figures(rows, tax_rate).map(|s| s.total)
}

fn cell_input(
    name: &str,
    value: &str,
    label: &str,
    kind: &str,
    errors: &FieldErrors,
    extra: Markup,
) -> Markup {
    let error = errors.for_field(name);
    let described = format!("{name}-error");
    html! {
        input id=(name) name=(name) type=(kind) value=(value) aria-label=(label)
            aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| described.as_str())] { (extra) }
        @if let Some(message) = error { p.field-error id=(described) { (message) } }
    }
}

/// One row; `row` is its number, or `__N__` in the template console.js copies.
fn row_markup(row: &str, number: &str, line: &EnteredLine, errors: &FieldErrors) -> Markup {
    let name = |field: &str| format!("line_{field}_{row}");
    let amount = line.line().map(|l| money(l.amount())).unwrap_or_default();
    let row_error = errors.for_field(&format!("line_{row}"));
    html! {
        tr data-line=(row) {
            td {
                select id=(name("kind")) name=(name("kind")) aria-label={ "Kind, line " (number) } {
                    @for kind in LineKind::ALL {
                        option value=(kind.as_str()) selected[line.kind == kind.as_str()] { (kind_label(*kind)) }
                    }
                }
            }
            td { (cell_input(&name("description"), &line.description, &format!("Description, line {number}"), "text", errors, html! {})) }
            td { (cell_input(&name("part_number"), &line.part_number, &format!("Part number, line {number}"), "text", errors, html! {})) }
            td { (cell_input(&name("quantity"), &line.quantity, &format!("Quantity, line {number}"), "text", errors, html! {})) }
            td { (cell_input(&name("unit_price"), &line.unit_price, &format!("Unit price, line {number}"), "text", errors, html! {})) }
            td.center {
                input type="checkbox" id=(name("taxable")) name=(name("taxable")) value="yes" checked[line.taxable]
                    aria-label={ "Taxable, line " (number) };
            }
            td.num data-amount { (amount) @if let Some(e) = row_error { p.field-error { (e) } } }
            td { button type="submit" name="action" value={ "remove_line_" (row) } aria-label={ "Remove line " (number) } { "Remove" } }
        }
    }
}

fn kind_label(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Part => "Part",
        LineKind::Labour => "Labour",
        LineKind::Fee => "Fee",
        LineKind::Discount => "Discount",
    }
}

/// The lines fieldset of the wizard: the rows, "Add a line", the tax rate and the figures.
pub fn fieldset(rows: &[EnteredLine], tax_rate: &str, errors: &FieldErrors) -> Markup {
    let sums = figures(rows, tax_rate);
    let figure = |m: Option<Money>| m.map(money).unwrap_or_else(|| "—".into());
    html! {
        fieldset #lines-fieldset {
            legend { "Lines (optional)" }
            p.muted { "Parts, labour, fees and discounts as the workshop's invoice lists them. With lines, the total is computed: leave Total amount empty, or type the invoice's total to check it against the lines." }
            @if let Some(e) = errors.for_field("line_items") { p.field-error role="alert" { (e) } }
            div.table-wrap {
                table #lines {
                    caption { "Invoice lines" }
                    thead { tr { th { "Kind" } th { "Description" } th { "Part number" } th { "Quantity" } th { "Unit price" } th { "Taxable" } th.num { "Amount" } th { span.visually-hidden { "Remove" } } } }
                    tbody {
                        @for (i, line) in rows.iter().enumerate() {
                            (row_markup(&line.row.to_string(), &(i + 1).to_string(), line, errors))
                        }
                    }
                }
            }
            template #line-template {
                (row_markup("__N__", "", &EnteredLine { kind: "part".into(), quantity: "1".into(), ..EnteredLine::default() }, &FieldErrors::default()))
            }
            div.actions { button type="submit" name="action" value="add_line" { "Add a line" } }
            div.form-grid {
                (crate::web::layout::input_field("Tax rate (%)", "tax_rate", tax_rate, "text", errors))
            }
            dl.facts #line-totals aria-live="polite" {
                dt { "Parts" } dd data-total="parts" { (figure(sums.map(|s| s.parts))) }
                dt { "Labour" } dd data-total="labour" { (figure(sums.map(|s| s.labour))) }
                dt { "Fees" } dd data-total="fees" { (figure(sums.map(|s| s.fees))) }
                dt { "Discounts" } dd data-total="discounts" { (figure(sums.map(|s| s.discounts))) }
                dt { "Tax" } dd data-total="tax" { (figure(sums.map(|s| s.tax))) }
                dt { "Total of the lines" } dd data-total="total" { (figure(sums.map(|s| s.total))) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rows_are_read_by_number_and_blank_ones_are_not_lines() {
        let rows = rows_of(&pairs(&[
            ("line_kind_3", "labour"),
            ("line_description_3", "Brake job"),
            ("line_quantity_3", "1.5"),
            ("line_unit_price_3", "$95.00"),
            ("line_kind_0", "part"),
            ("line_description_0", "Pads"),
            ("line_quantity_0", "2"),
            ("line_unit_price_0", "45.50"),
            ("line_taxable_0", "yes"),
            ("line_kind_7", "part"),
            ("line_description_99999", "ignored"),
            ("other", "x"),
        ]));
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [0, 3, 7]);
        assert!(rows[0].taxable && !rows[1].taxable);
        let (lines, numbers) = step_lines(&rows);
        assert_eq!(numbers, [0, 3]);
        assert_eq!(lines[1]["unit_price"], "95.00");
        // 2 × 45.50 taxable + 1.5 × 95.00, at 10 %: 91.00 + 142.50 + 9.10.
        assert_eq!(total_of(&rows, "10"), Some(Money::from_cents(24_260)));
        let added = edited(Some("add_line"), rows.clone()).unwrap();
        assert_eq!(added.last().unwrap().row, 8);
        let removed = edited(Some("remove_line_3"), rows).unwrap();
        assert_eq!(removed.iter().map(|r| r.row).collect::<Vec<_>>(), [0, 7]);
        assert!(edited(Some("create"), Vec::new()).is_none());
    }

    #[test]
    fn the_steps_errors_go_beside_their_rows() {
        let errors = FieldErrors(vec![
            FieldError::at("/data/line_items/1/quantity", "must be greater than 0"),
            FieldError::at("/data/line_items/0", "line 1: rounds to 0.00"),
            FieldError::at("/data/line_items", "discounts too large"),
            FieldError::at("/data/workshop_type", "disagrees"),
        ]);
        let shown = beside_rows(errors, &[4, 9]);
        let fields: Vec<&str> = shown.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["line_quantity_9", "line_4", "line_items", "workshop_id"]
        );
    }
}
