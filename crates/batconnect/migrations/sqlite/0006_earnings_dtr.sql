-- Weekly earnings, payment reversals, DTRs and idempotency keys.

-- Allocations stay for history; a voided payment marks its allocations reversed.
ALTER TABLE ledger_allocations ADD COLUMN reversed INTEGER NOT NULL DEFAULT 0;

-- One live earnings credit per lease and week (a voided one frees the week).
CREATE UNIQUE INDEX ledger_postings_earnings_once ON ledger_postings (lease_id, payment_period)
    WHERE entry_type = 'EARNINGS' AND status = 'POSTED';
CREATE INDEX ledger_postings_entry_period ON ledger_postings (entry_type, payment_period, lease_id);
CREATE INDEX ledger_allocations_payment ON ledger_allocations (payment_posting_id);
CREATE INDEX repair_installments_invoice ON repair_installments (invoice_id, sequence);

CREATE TABLE dtrs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dtr_number TEXT NOT NULL UNIQUE,
    lease_id BIGINT NOT NULL REFERENCES leases (id),
    driver_id BIGINT REFERENCES drivers (id),
    week_start TEXT NOT NULL,
    week_end TEXT NOT NULL,
    status TEXT NOT NULL,
    gross_earnings_cents BIGINT NOT NULL,
    total_deducted_cents BIGINT NOT NULL,
    net_pay_cents BIGINT NOT NULL CHECK (net_pay_cents >= 0),
    content TEXT NOT NULL,
    generated_on TEXT NOT NULL,
    finalized_by TEXT,
    finalized_on TEXT,
    UNIQUE (lease_id, week_start)
);
CREATE INDEX dtrs_week ON dtrs (week_start, id);
CREATE INDEX dtrs_driver ON dtrs (driver_id, week_start);

CREATE TABLE idempotency_keys (
    key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_on TEXT NOT NULL,
    PRIMARY KEY (key, endpoint, user_id)
);
