-- A driver's invoices in date order straight from the index: the list filtered by a driver
-- name part (many drivers, tens of thousands of invoices) sorts the page from the index
-- entries alone. Replaces the driver_id-only index, its prefix.
DROP INDEX repair_invoices_driver;
CREATE INDEX repair_invoices_driver ON repair_invoices (driver_id, invoice_date);

-- The same key as the table's UNIQUE (invoice_id, sequence): a second copy every
-- installment insert and (on PostgreSQL) every status change had to maintain.
DROP INDEX repair_installments_invoice;
