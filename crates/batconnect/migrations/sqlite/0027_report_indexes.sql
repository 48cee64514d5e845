-- What repairs cost (reports): a range of invoice dates read from one index, every column
-- the groupings sum carried in it, so the invoices' rows are not visited.
CREATE INDEX repair_invoices_costs ON repair_invoices (invoice_date, status, workshop_id, vehicle_id,
    driver_id, total_amount_cents, line_count, parts_cents, labour_cents, fees_cents, discounts_cents, tax_cents);
-- The dashboard's repair collections: allocations of a recent time window.
CREATE INDEX ledger_allocations_created ON ledger_allocations (created_on);
-- The clerk's most used list, a status and part of a driver's name: the drivers the name
-- finds, then each one's invoices of that status from this index alone (count and page).
CREATE INDEX repair_invoices_driver_status ON repair_invoices (driver_id, status, invoice_date);
