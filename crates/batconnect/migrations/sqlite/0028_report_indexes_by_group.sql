-- What repairs cost, on SQLite (PostgreSQL needs none of this: it aggregates in a hash
-- table). SQLite sorts whatever it groups unless the rows already come in the group's
-- order, so each grouping reads an index in its own order:
-- per workshop, vehicle and driver: the named table in id order, then each one's invoices
-- of the range from the index below (nothing sorted, nothing but these four columns read);
CREATE INDEX repair_invoices_workshop_id_costs ON repair_invoices (workshop_id, invoice_date, status, total_amount_cents);
CREATE INDEX repair_invoices_vehicle_id_costs ON repair_invoices (vehicle_id, invoice_date, status, total_amount_cents);
CREATE INDEX repair_invoices_driver_id_costs ON repair_invoices (driver_id, invoice_date, status, total_amount_cents);
-- per month and the counts and totals: a narrow date index (grouped per day, folded into
-- months by the service);
CREATE INDEX repair_invoices_date_costs ON repair_invoices (invoice_date, status, total_amount_cents, line_count);
-- per kind of cost: only itemised invoices have parts, labour, fees, discounts or tax.
CREATE INDEX repair_invoices_itemised_costs ON repair_invoices (invoice_date, status, line_count, parts_cents,
    labour_cents, fees_cents, discounts_cents, tax_cents) WHERE line_count > 0;
-- The wide index of migration 0027 is read by none of these.
DROP INDEX repair_invoices_costs;
