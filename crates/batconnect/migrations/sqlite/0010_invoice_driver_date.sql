-- A driver's invoices in date order straight from the index: the list filtered by a driver
-- name part (many drivers, tens of thousands of invoices) sorts the page from the index
-- entries alone. Replaces the driver_id-only index, its prefix.
DROP INDEX repair_invoices_driver;
CREATE INDEX repair_invoices_driver ON repair_invoices (driver_id, invoice_date);
