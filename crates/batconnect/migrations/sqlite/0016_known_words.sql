-- The database refuses words the service does not know: every status, type, category,
-- entry type and trigger column accepts only its `domain` enum's words (a test checks these
-- lists against the enums). Runs recorded as `manual` by early versions are `api` runs.
UPDATE job_runs SET trigger = 'api' WHERE trigger = 'manual';

-- SQLite cannot add a CHECK to an existing table. The tables the Sunday run writes by the
-- hundred thousand (postings, balances, installments) are rebuilt with their CHECKs, as
-- 0011 rebuilt the ledger: a trigger per row cost a third more posting time. The other
-- tables, written a row at a time, get a trigger per column that refuses an unknown word
-- on insert and on update.

ALTER TABLE ledger_balances RENAME TO ledger_balances_old;
ALTER TABLE ledger_postings RENAME TO ledger_postings_old;
ALTER TABLE repair_installments RENAME TO repair_installments_old;

CREATE TABLE ledger_postings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL CONSTRAINT ledger_postings_category_word CHECK (category IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee')),
    -- Signed cents: obligations (debits) > 0, payments and earnings (credits) < 0.
    amount_cents BIGINT NOT NULL,
    entry_type TEXT NOT NULL CONSTRAINT ledger_postings_entry_type_word CHECK (entry_type IN ('OBLIGATION', 'EARNINGS', 'INTERIM_PAYMENT', 'CREDIT', 'REVERSAL')),
    status TEXT NOT NULL CONSTRAINT ledger_postings_status_word CHECK (status IN ('POSTED', 'VOIDED')),
    reference_id TEXT NOT NULL,
    reversal_for_id BIGINT REFERENCES ledger_postings (id),
    driver_id BIGINT,
    lease_id BIGINT,
    vehicle_id BIGINT,
    medallion_id BIGINT,
    payment_period TEXT,
    description TEXT,
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL
);
INSERT INTO ledger_postings (id, category, amount_cents, entry_type, status, reference_id, reversal_for_id, driver_id, lease_id,
    vehicle_id, medallion_id, payment_period, description, created_by, created_on)
SELECT id, category, amount_cents, entry_type, status, reference_id, reversal_for_id, driver_id, lease_id,
    vehicle_id, medallion_id, payment_period, description, created_by, created_on
FROM ledger_postings_old ORDER BY id;

CREATE TABLE ledger_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL CONSTRAINT ledger_balances_category_word CHECK (category IN ('Taxes', 'EZPass', 'Lease', 'PVB', 'TLC', 'Repair', 'Loan', 'Misc', 'Earnings', 'Interim Payment', 'Deposit', 'Cancellation Fee')),
    reference_id TEXT NOT NULL,
    obligation_posting_id BIGINT NOT NULL UNIQUE,
    driver_id BIGINT,
    lease_id BIGINT,
    vehicle_id BIGINT,
    medallion_id BIGINT,
    original_cents BIGINT NOT NULL CHECK (original_cents > 0),
    balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0),
    due_date TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT ledger_balances_status_word CHECK (status IN ('OPEN', 'CLOSED', 'VOIDED')),
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    CHECK (balance_cents <= original_cents)
);
INSERT INTO ledger_balances (id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id,
    original_cents, balance_cents, due_date, status, created_on, updated_on)
SELECT id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id,
    original_cents, balance_cents, due_date, status, created_on, updated_on
FROM ledger_balances_old ORDER BY id;

CREATE TABLE repair_installments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    installment_id TEXT NOT NULL UNIQUE,
    invoice_id BIGINT NOT NULL REFERENCES repair_invoices (id),
    sequence INTEGER NOT NULL,
    week_start_date TEXT NOT NULL,
    week_end_date TEXT NOT NULL,
    principal_amount_cents BIGINT NOT NULL,
    paid_amount_cents BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL CONSTRAINT repair_installments_status_word CHECK (status IN ('Scheduled', 'Posted', 'Paid', 'Cancelled')),
    ledger_posting_ref TEXT,
    posted_on TEXT,
    created_on TEXT NOT NULL,
    UNIQUE (invoice_id, sequence)
);
INSERT INTO repair_installments (id, installment_id, invoice_id, sequence, week_start_date, week_end_date, principal_amount_cents,
    paid_amount_cents, status, ledger_posting_ref, posted_on, created_on)
SELECT id, installment_id, invoice_id, sequence, week_start_date, week_end_date, principal_amount_cents,
    paid_amount_cents, status, ledger_posting_ref, posted_on, created_on
FROM repair_installments_old ORDER BY id;

-- The old tables' indexes and triggers go with them (a drop fires no DELETE trigger).
DROP TABLE ledger_balances_old;
DROP TABLE ledger_postings_old;
DROP TABLE repair_installments_old;

CREATE UNIQUE INDEX ledger_postings_obligation_once ON ledger_postings (category, reference_id) WHERE entry_type = 'OBLIGATION';
CREATE UNIQUE INDEX ledger_postings_one_reversal ON ledger_postings (reversal_for_id) WHERE reversal_for_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_postings_earnings_once ON ledger_postings (lease_id, payment_period)
    WHERE entry_type = 'EARNINGS' AND status = 'POSTED';
CREATE UNIQUE INDEX ledger_postings_interim_receipt_once ON ledger_postings (reference_id)
    WHERE entry_type = 'INTERIM_PAYMENT';
CREATE INDEX ledger_postings_lease ON ledger_postings (lease_id, id);
CREATE INDEX ledger_postings_driver ON ledger_postings (driver_id, id);
CREATE INDEX ledger_postings_reference ON ledger_postings (reference_id);
CREATE INDEX ledger_postings_entry_period ON ledger_postings (entry_type, payment_period, lease_id);
CREATE INDEX ledger_balances_lease_open ON ledger_balances (lease_id, status, category, due_date);
CREATE INDEX ledger_balances_driver ON ledger_balances (driver_id, status);
CREATE INDEX repair_installments_week ON repair_installments (week_start_date, id);
CREATE INDEX repair_installments_due ON repair_installments (week_start_date, id) WHERE status = 'Scheduled';

CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN
    SELECT RAISE(ABORT, 'ledger_postings are immutable: DELETE is not allowed');
END;
CREATE TRIGGER ledger_postings_only_void BEFORE UPDATE ON ledger_postings
WHEN NOT (
    OLD.status = 'POSTED' AND NEW.status = 'VOIDED'
    AND NEW.id = OLD.id AND NEW.category = OLD.category AND NEW.amount_cents = OLD.amount_cents
    AND NEW.entry_type = OLD.entry_type AND NEW.reference_id = OLD.reference_id
    AND NEW.reversal_for_id IS OLD.reversal_for_id AND NEW.driver_id IS OLD.driver_id
    AND NEW.lease_id IS OLD.lease_id AND NEW.vehicle_id IS OLD.vehicle_id AND NEW.medallion_id IS OLD.medallion_id
    AND NEW.payment_period IS OLD.payment_period AND NEW.description IS OLD.description
    AND NEW.created_by = OLD.created_by AND NEW.created_on = OLD.created_on
)
BEGIN
    SELECT RAISE(ABORT, 'ledger_postings are immutable: the only change allowed is status POSTED -> VOIDED');
END;
CREATE TRIGGER ledger_balances_kept BEFORE DELETE ON ledger_balances
BEGIN
    SELECT RAISE(ABORT, 'ledger_balances rows are kept for history: DELETE is not allowed');
END;

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
