-- The database refuses words the service does not know: every status, type, category,
-- entry type and trigger column accepts only its `domain` enum's words (a test checks these
-- lists against the enums). Runs recorded as `manual` by early versions are `api` runs.
UPDATE job_runs SET trigger = 'api' WHERE trigger = 'manual';

ALTER TABLE drivers ADD CONSTRAINT drivers_status_word CHECK (status IN ('In Progress', 'Registered', 'Active', 'Inactive'));
ALTER TABLE drivers ADD CONSTRAINT drivers_pay_to_word CHECK (pay_to IN ('ACH', 'Check'));
ALTER TABLE medallions ADD CONSTRAINT medallions_status_word CHECK (status IN ('Available', 'Assigned', 'Retired'));
ALTER TABLE leases ADD CONSTRAINT leases_lease_type_word CHECK (lease_type IN ('dov', 'long-term', 'short-term', 'shift-lease', 'medallion-only'));
ALTER TABLE leases ADD CONSTRAINT leases_status_word CHECK (status IN ('In Progress', 'Active', 'Suspended', 'Terminated', 'Expired', 'Cancelled'));
ALTER TABLE leases ADD CONSTRAINT leases_termination_reason_word CHECK (termination_reason IN ('completed', 'early_termination', 'driver_left', 'vehicle_total_loss', 'other'));
ALTER TABLE cases ADD CONSTRAINT cases_status_word CHECK (status IN ('Open', 'In Progress', 'Closed'));
ALTER TABLE repair_invoices ADD CONSTRAINT repair_invoices_status_word CHECK (status IN ('Draft', 'Open', 'Closed', 'Hold', 'Cancelled'));
ALTER TABLE repair_invoices ADD CONSTRAINT repair_invoices_workshop_type_word CHECK (workshop_type IN ('Big Apple Workshop', 'External Workshop'));
ALTER TABLE repair_invoices ADD CONSTRAINT repair_invoices_lease_type_word CHECK (lease_type IN ('dov', 'long-term', 'short-term', 'shift-lease', 'medallion-only'));
ALTER TABLE repair_installments ADD CONSTRAINT repair_installments_status_word CHECK (status IN ('Scheduled', 'Posted', 'Paid', 'Cancelled'));
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_category_word CHECK (category IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee'));
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_entry_type_word CHECK (entry_type IN ('OBLIGATION', 'EARNINGS', 'INTERIM_PAYMENT', 'CREDIT', 'REVERSAL'));
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_status_word CHECK (status IN ('POSTED', 'VOIDED'));
ALTER TABLE ledger_balances ADD CONSTRAINT ledger_balances_category_word CHECK (category IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee'));
ALTER TABLE ledger_balances ADD CONSTRAINT ledger_balances_status_word CHECK (status IN ('OPEN', 'CLOSED', 'VOIDED'));
ALTER TABLE job_runs ADD CONSTRAINT job_runs_trigger_word CHECK (trigger IN ('schedule', 'api', 'cli'));
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_word CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'missed'));
ALTER TABLE dtrs ADD CONSTRAINT dtrs_status_word CHECK (status IN ('Draft', 'Finalized'));
