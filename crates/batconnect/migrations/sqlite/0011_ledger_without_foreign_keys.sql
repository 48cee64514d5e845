-- Counterpart of PostgreSQL's 0007 and 0009: the ledger tables lose their per-row foreign
-- keys here too. Each posting and balance checked four master-data references (columns
-- copied from an invoice or lease that already enforces them) and each balance and
-- allocation its ledger links (rows that can never be deleted: triggers below, and the
-- service writes every link from the row it has just inserted or read); on the Sunday run
-- those lookups were a sixth of the posting time. Only a reversal's link to the posting it
-- reverses keeps its key, as on PostgreSQL.
-- Balances also lose UNIQUE (category, reference_id), as on PostgreSQL in this migration:
-- a balance belongs to one obligation posting (UNIQUE obligation_posting_id), and that
-- posting is already unique per (category, reference_id); the copy cost an index entry
-- per balance and is found through the postings' index instead.
-- SQLite cannot drop a constraint, so the three tables are rebuilt with the same columns,
-- data, ids, other indexes and triggers.

ALTER TABLE ledger_allocations RENAME TO ledger_allocations_old;
ALTER TABLE ledger_balances RENAME TO ledger_balances_old;
ALTER TABLE ledger_postings RENAME TO ledger_postings_old;

CREATE TABLE ledger_postings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL,
    -- Signed cents: obligations (debits) > 0, payments and earnings (credits) < 0.
    amount_cents BIGINT NOT NULL,
    entry_type TEXT NOT NULL,
    status TEXT NOT NULL,
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
    category TEXT NOT NULL,
    reference_id TEXT NOT NULL,
    obligation_posting_id BIGINT NOT NULL UNIQUE,
    driver_id BIGINT,
    lease_id BIGINT,
    vehicle_id BIGINT,
    medallion_id BIGINT,
    original_cents BIGINT NOT NULL CHECK (original_cents > 0),
    balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0),
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    CHECK (balance_cents <= original_cents)
);
INSERT INTO ledger_balances (id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id,
    original_cents, balance_cents, due_date, status, created_on, updated_on)
SELECT id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id,
    original_cents, balance_cents, due_date, status, created_on, updated_on
FROM ledger_balances_old ORDER BY id;

CREATE TABLE ledger_allocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_posting_id BIGINT NOT NULL,
    balance_id BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    created_on TEXT NOT NULL,
    reversed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (payment_posting_id, balance_id)
);
INSERT INTO ledger_allocations (id, payment_posting_id, balance_id, amount_cents, created_on, reversed)
SELECT id, payment_posting_id, balance_id, amount_cents, created_on, reversed
FROM ledger_allocations_old ORDER BY id;

-- Children first: dropping a table deletes its rows, which their references would refuse.
-- The old tables' indexes and triggers go with them.
DROP TABLE ledger_allocations_old;
DROP TABLE ledger_balances_old;
DROP TABLE ledger_postings_old;

-- An obligation is posted once per (category, source record), whoever posts it.
CREATE UNIQUE INDEX ledger_postings_obligation_once ON ledger_postings (category, reference_id) WHERE entry_type = 'OBLIGATION';
-- A posting is reversed at most once, even by concurrent voids.
CREATE UNIQUE INDEX ledger_postings_one_reversal ON ledger_postings (reversal_for_id) WHERE reversal_for_id IS NOT NULL;
-- One live earnings credit per lease and week (a voided one frees the week).
CREATE UNIQUE INDEX ledger_postings_earnings_once ON ledger_postings (lease_id, payment_period)
    WHERE entry_type = 'EARNINGS' AND status = 'POSTED';
CREATE INDEX ledger_postings_lease ON ledger_postings (lease_id, id);
CREATE INDEX ledger_postings_driver ON ledger_postings (driver_id, id);
CREATE INDEX ledger_postings_reference ON ledger_postings (reference_id);
CREATE INDEX ledger_postings_entry_period ON ledger_postings (entry_type, payment_period, lease_id);
CREATE INDEX ledger_balances_lease_open ON ledger_balances (lease_id, status, category, due_date);
CREATE INDEX ledger_balances_driver ON ledger_balances (driver_id, status);
CREATE INDEX ledger_allocations_balance ON ledger_allocations (balance_id);

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
CREATE TRIGGER ledger_balances_kept BEFORE DELETE ON ledger_balances
BEGIN
    SELECT RAISE(ABORT, 'ledger_balances rows are kept for history: DELETE is not allowed');
END;
CREATE TRIGGER ledger_allocations_kept BEFORE DELETE ON ledger_allocations
BEGIN
    SELECT RAISE(ABORT, 'ledger_allocations rows are kept for history: DELETE is not allowed');
END;
