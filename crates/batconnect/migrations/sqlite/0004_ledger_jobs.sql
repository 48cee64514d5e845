-- Centralized ledger (immutable postings, one balance per obligation, allocations) and
-- the record of scheduled/manual job runs.

CREATE TABLE ledger_postings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL,
    -- Signed cents: obligations (debits) > 0, payments and earnings (credits) < 0.
    amount_cents BIGINT NOT NULL,
    entry_type TEXT NOT NULL,
    status TEXT NOT NULL,
    reference_id TEXT NOT NULL,
    reversal_for_id BIGINT REFERENCES ledger_postings (id),
    driver_id BIGINT REFERENCES drivers (id),
    lease_id BIGINT REFERENCES leases (id),
    vehicle_id BIGINT REFERENCES vehicles (id),
    medallion_id BIGINT REFERENCES medallions (id),
    payment_period TEXT,
    description TEXT,
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL
);
-- An obligation is posted once per (category, source record), whoever posts it.
CREATE UNIQUE INDEX ledger_postings_obligation_once ON ledger_postings (category, reference_id) WHERE entry_type = 'OBLIGATION';
-- A posting is reversed at most once, even by concurrent voids.
CREATE UNIQUE INDEX ledger_postings_one_reversal ON ledger_postings (reversal_for_id) WHERE reversal_for_id IS NOT NULL;
CREATE INDEX ledger_postings_lease ON ledger_postings (lease_id, id);
CREATE INDEX ledger_postings_driver ON ledger_postings (driver_id, id);
CREATE INDEX ledger_postings_period ON ledger_postings (payment_period);
CREATE INDEX ledger_postings_reference ON ledger_postings (reference_id);

-- Postings are immutable: no DELETE, and the only UPDATE is POSTED -> VOIDED.
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

CREATE TABLE ledger_balances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL,
    reference_id TEXT NOT NULL,
    obligation_posting_id BIGINT NOT NULL UNIQUE REFERENCES ledger_postings (id),
    driver_id BIGINT REFERENCES drivers (id),
    lease_id BIGINT REFERENCES leases (id),
    vehicle_id BIGINT REFERENCES vehicles (id),
    medallion_id BIGINT REFERENCES medallions (id),
    original_cents BIGINT NOT NULL CHECK (original_cents > 0),
    balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0),
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (category, reference_id),
    CHECK (balance_cents <= original_cents)
);
CREATE INDEX ledger_balances_lease_open ON ledger_balances (lease_id, status, category, due_date);
CREATE INDEX ledger_balances_driver ON ledger_balances (driver_id, status);

CREATE TABLE ledger_allocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_posting_id BIGINT NOT NULL REFERENCES ledger_postings (id),
    balance_id BIGINT NOT NULL REFERENCES ledger_balances (id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    created_on TEXT NOT NULL,
    UNIQUE (payment_posting_id, balance_id)
);
CREATE INDEX ledger_allocations_balance ON ledger_allocations (balance_id);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_name TEXT NOT NULL,
    period TEXT NOT NULL,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    started_on TEXT NOT NULL,
    heartbeat_on TEXT NOT NULL,
    finished_on TEXT,
    counts TEXT,
    error TEXT
);
-- A scheduled (job, period) is claimed by exactly one worker.
CREATE UNIQUE INDEX job_runs_scheduled_once ON job_runs (job_name, period) WHERE trigger = 'schedule';
CREATE INDEX job_runs_recent ON job_runs (started_on);
