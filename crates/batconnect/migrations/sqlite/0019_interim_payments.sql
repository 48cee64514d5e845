-- The cashier's desk: what an interim payment was, as taken at the window. Its money is the
-- INTERIM_PAYMENT posting (amount, allocations, void); this row keeps what the ledger does
-- not: the day the driver paid, how (a fixed list; a check's number), the cashier's memo.
-- Interim payments recorded before this table are carried over with the day they were
-- recorded and no method ("not recorded").
CREATE TABLE interim_payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_number TEXT NOT NULL UNIQUE,
    posting_id BIGINT NOT NULL UNIQUE,
    lease_id BIGINT NOT NULL REFERENCES leases (id),
    driver_id BIGINT REFERENCES drivers (id),
    payment_date TEXT NOT NULL,
    method TEXT CHECK (method IN ('Cash', 'Check', 'Money order', 'Card', 'ACH')),
    check_number TEXT,
    memo TEXT,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL
);
CREATE INDEX interim_payments_lease ON interim_payments (lease_id, payment_date);
CREATE INDEX interim_payments_date ON interim_payments (payment_date, id);
INSERT INTO interim_payments (receipt_number, posting_id, lease_id, driver_id, payment_date, method, memo,
                              amount_cents, created_by, created_on)
SELECT reference_id, id, lease_id, driver_id, substr(created_on, 1, 10), NULL, description,
       -amount_cents, created_by, created_on
FROM ledger_postings
WHERE entry_type = 'INTERIM_PAYMENT' AND lease_id IS NOT NULL;
-- A lease's unapplied credit (interim payments beyond what was owed, rent credits) is read
-- by every statement run: the few such postings are found without reading the lease's
-- other postings.
CREATE INDEX ledger_postings_credits ON ledger_postings (lease_id, id)
    WHERE entry_type IN ('INTERIM_PAYMENT', 'CREDIT') AND status = 'POSTED';
