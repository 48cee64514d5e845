-- Indexes for the repairs list's filter + sort combinations.
-- status filter sorted by amount.
CREATE INDEX repair_invoices_status_amount ON repair_invoices (status, total_amount_cents, id);
