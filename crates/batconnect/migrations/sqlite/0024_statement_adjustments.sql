-- A correction after a statement is final: the finalized statement stays as it was handed
-- to the driver, and the void that changed what it counted is carried by the lease's first
-- statement not yet finalized (its week: due_week), in its "Adjustments to earlier weeks".
-- amount_cents is the net pay the voided posting had produced, now owed back; it is also an
-- obligation on the lease (obligation_posting_id, Misc, reference ADJ-<voided posting>), so
-- what that statement's earnings cannot pay stays an open balance. owed_again_cents is what
-- the void reopened of the balances it had paid, collected again with the deductions.
CREATE TABLE statement_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lease_id BIGINT NOT NULL REFERENCES leases (id),
    voided_posting_id BIGINT NOT NULL UNIQUE REFERENCES ledger_postings (id),
    finalized_dtr_id BIGINT NOT NULL REFERENCES dtrs (id),
    week TEXT NOT NULL,
    due_week TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    owed_again_cents BIGINT NOT NULL CHECK (owed_again_cents >= 0),
    obligation_posting_id BIGINT REFERENCES ledger_postings (id),
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL
);
CREATE INDEX statement_adjustments_lease ON statement_adjustments (lease_id, due_week);
