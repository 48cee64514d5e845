-- The database refuses words the service does not know: every status, type, category,
-- entry type and trigger column accepts only its `domain` enum's words (a test checks these
-- lists against the enums). Runs recorded as `manual` by early versions are `api` runs.
UPDATE job_runs SET trigger = 'api' WHERE trigger = 'manual';

-- SQLite cannot add a CHECK to a table without rebuilding it (and its indexes and
-- triggers): a trigger per column refuses an unknown word on insert and on update instead.

CREATE TRIGGER drivers_status_word_insert BEFORE INSERT ON drivers
WHEN NEW.status NOT IN ('In Progress', 'Registered', 'Active', 'Inactive')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: drivers_status_word'); END;
CREATE TRIGGER drivers_status_word_update BEFORE UPDATE OF status ON drivers
WHEN NEW.status NOT IN ('In Progress', 'Registered', 'Active', 'Inactive')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: drivers_status_word'); END;
CREATE TRIGGER drivers_pay_to_word_insert BEFORE INSERT ON drivers
WHEN NEW.pay_to NOT IN ('ACH', 'Check')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: drivers_pay_to_word'); END;
CREATE TRIGGER drivers_pay_to_word_update BEFORE UPDATE OF pay_to ON drivers
WHEN NEW.pay_to NOT IN ('ACH', 'Check')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: drivers_pay_to_word'); END;
CREATE TRIGGER medallions_status_word_insert BEFORE INSERT ON medallions
WHEN NEW.status NOT IN ('Available', 'Assigned', 'Retired')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: medallions_status_word'); END;
CREATE TRIGGER medallions_status_word_update BEFORE UPDATE OF status ON medallions
WHEN NEW.status NOT IN ('Available', 'Assigned', 'Retired')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: medallions_status_word'); END;
CREATE TRIGGER leases_lease_type_word_insert BEFORE INSERT ON leases
WHEN NEW.lease_type NOT IN ('dov', 'long-term', 'short-term', 'shift-lease', 'medallion-only')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: leases_lease_type_word'); END;
CREATE TRIGGER leases_lease_type_word_update BEFORE UPDATE OF lease_type ON leases
WHEN NEW.lease_type NOT IN ('dov', 'long-term', 'short-term', 'shift-lease', 'medallion-only')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: leases_lease_type_word'); END;
CREATE TRIGGER leases_status_word_insert BEFORE INSERT ON leases
WHEN NEW.status NOT IN ('In Progress', 'Active', 'Suspended', 'Terminated', 'Expired', 'Cancelled')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: leases_status_word'); END;
CREATE TRIGGER leases_status_word_update BEFORE UPDATE OF status ON leases
WHEN NEW.status NOT IN ('In Progress', 'Active', 'Suspended', 'Terminated', 'Expired', 'Cancelled')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: leases_status_word'); END;
CREATE TRIGGER leases_termination_reason_word_insert BEFORE INSERT ON leases
WHEN NEW.termination_reason NOT IN ('completed', 'early_termination', 'driver_left', 'vehicle_total_loss', 'other')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: leases_termination_reason_word'); END;
CREATE TRIGGER leases_termination_reason_word_update BEFORE UPDATE OF termination_reason ON leases
WHEN NEW.termination_reason NOT IN ('completed', 'early_termination', 'driver_left', 'vehicle_total_loss', 'other')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: leases_termination_reason_word'); END;
CREATE TRIGGER cases_status_word_insert BEFORE INSERT ON cases
WHEN NEW.status NOT IN ('Open', 'In Progress', 'Closed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: cases_status_word'); END;
CREATE TRIGGER cases_status_word_update BEFORE UPDATE OF status ON cases
WHEN NEW.status NOT IN ('Open', 'In Progress', 'Closed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: cases_status_word'); END;
CREATE TRIGGER repair_invoices_status_word_insert BEFORE INSERT ON repair_invoices
WHEN NEW.status NOT IN ('Draft', 'Open', 'Closed', 'Hold', 'Cancelled')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_invoices_status_word'); END;
CREATE TRIGGER repair_invoices_status_word_update BEFORE UPDATE OF status ON repair_invoices
WHEN NEW.status NOT IN ('Draft', 'Open', 'Closed', 'Hold', 'Cancelled')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_invoices_status_word'); END;
CREATE TRIGGER repair_invoices_workshop_type_word_insert BEFORE INSERT ON repair_invoices
WHEN NEW.workshop_type NOT IN ('Big Apple Workshop', 'External Workshop')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_invoices_workshop_type_word'); END;
CREATE TRIGGER repair_invoices_workshop_type_word_update BEFORE UPDATE OF workshop_type ON repair_invoices
WHEN NEW.workshop_type NOT IN ('Big Apple Workshop', 'External Workshop')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_invoices_workshop_type_word'); END;
CREATE TRIGGER repair_invoices_lease_type_word_insert BEFORE INSERT ON repair_invoices
WHEN NEW.lease_type NOT IN ('dov', 'long-term', 'short-term', 'shift-lease', 'medallion-only')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_invoices_lease_type_word'); END;
CREATE TRIGGER repair_invoices_lease_type_word_update BEFORE UPDATE OF lease_type ON repair_invoices
WHEN NEW.lease_type NOT IN ('dov', 'long-term', 'short-term', 'shift-lease', 'medallion-only')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_invoices_lease_type_word'); END;
CREATE TRIGGER repair_installments_status_word_insert BEFORE INSERT ON repair_installments
WHEN NEW.status NOT IN ('Scheduled', 'Posted', 'Paid', 'Cancelled')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_installments_status_word'); END;
CREATE TRIGGER repair_installments_status_word_update BEFORE UPDATE OF status ON repair_installments
WHEN NEW.status NOT IN ('Scheduled', 'Posted', 'Paid', 'Cancelled')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: repair_installments_status_word'); END;
CREATE TRIGGER ledger_postings_category_word_insert BEFORE INSERT ON ledger_postings
WHEN NEW.category NOT IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_postings_category_word'); END;
CREATE TRIGGER ledger_postings_category_word_update BEFORE UPDATE OF category ON ledger_postings
WHEN NEW.category NOT IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_postings_category_word'); END;
CREATE TRIGGER ledger_postings_entry_type_word_insert BEFORE INSERT ON ledger_postings
WHEN NEW.entry_type NOT IN ('OBLIGATION', 'EARNINGS', 'INTERIM_PAYMENT', 'CREDIT', 'REVERSAL')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_postings_entry_type_word'); END;
CREATE TRIGGER ledger_postings_entry_type_word_update BEFORE UPDATE OF entry_type ON ledger_postings
WHEN NEW.entry_type NOT IN ('OBLIGATION', 'EARNINGS', 'INTERIM_PAYMENT', 'CREDIT', 'REVERSAL')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_postings_entry_type_word'); END;
CREATE TRIGGER ledger_postings_status_word_insert BEFORE INSERT ON ledger_postings
WHEN NEW.status NOT IN ('POSTED', 'VOIDED')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_postings_status_word'); END;
CREATE TRIGGER ledger_postings_status_word_update BEFORE UPDATE OF status ON ledger_postings
WHEN NEW.status NOT IN ('POSTED', 'VOIDED')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_postings_status_word'); END;
CREATE TRIGGER ledger_balances_category_word_insert BEFORE INSERT ON ledger_balances
WHEN NEW.category NOT IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_balances_category_word'); END;
CREATE TRIGGER ledger_balances_category_word_update BEFORE UPDATE OF category ON ledger_balances
WHEN NEW.category NOT IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_balances_category_word'); END;
CREATE TRIGGER ledger_balances_status_word_insert BEFORE INSERT ON ledger_balances
WHEN NEW.status NOT IN ('OPEN', 'CLOSED', 'VOIDED')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_balances_status_word'); END;
CREATE TRIGGER ledger_balances_status_word_update BEFORE UPDATE OF status ON ledger_balances
WHEN NEW.status NOT IN ('OPEN', 'CLOSED', 'VOIDED')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ledger_balances_status_word'); END;
CREATE TRIGGER job_runs_trigger_word_insert BEFORE INSERT ON job_runs
WHEN NEW.trigger NOT IN ('schedule', 'api', 'cli')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: job_runs_trigger_word'); END;
CREATE TRIGGER job_runs_trigger_word_update BEFORE UPDATE OF trigger ON job_runs
WHEN NEW.trigger NOT IN ('schedule', 'api', 'cli')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: job_runs_trigger_word'); END;
CREATE TRIGGER job_runs_status_word_insert BEFORE INSERT ON job_runs
WHEN NEW.status NOT IN ('running', 'succeeded', 'failed', 'skipped', 'missed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: job_runs_status_word'); END;
CREATE TRIGGER job_runs_status_word_update BEFORE UPDATE OF status ON job_runs
WHEN NEW.status NOT IN ('running', 'succeeded', 'failed', 'skipped', 'missed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: job_runs_status_word'); END;
CREATE TRIGGER dtrs_status_word_insert BEFORE INSERT ON dtrs
WHEN NEW.status NOT IN ('Draft', 'Finalized')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: dtrs_status_word'); END;
CREATE TRIGGER dtrs_status_word_update BEFORE UPDATE OF status ON dtrs
WHEN NEW.status NOT IN ('Draft', 'Finalized')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: dtrs_status_word'); END;
