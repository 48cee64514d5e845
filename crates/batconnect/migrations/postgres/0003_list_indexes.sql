-- Indexes for the repairs list's filter + sort combinations.
-- Partial, case-insensitive driver-name search: trigram index (pg_trgm is a trusted
-- extension). Installed in `public` so every schema sharing the database can use it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX repair_invoices_driver_name_trgm ON repair_invoices USING gin (lower(driver_name) public.gin_trgm_ops);
-- status filter sorted by amount.
CREATE INDEX repair_invoices_status_amount ON repair_invoices (status, total_amount_cents, id);
