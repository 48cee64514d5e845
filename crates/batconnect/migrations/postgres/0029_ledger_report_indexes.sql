-- Weekly collections (reports): what fell due in a range of weeks, read from one index
-- without visiting the balances; and the voids posted in a range of time, from an index of
-- reversals alone (a few rows among millions of postings).
CREATE INDEX ledger_balances_due ON ledger_balances (due_date) INCLUDE (category, original_cents);
CREATE INDEX ledger_postings_reversals_created ON ledger_postings (created_on) INCLUDE (category, amount_cents) WHERE entry_type = 'REVERSAL';
-- Weekly collections group what payments paid by the payment's kind and period, whether
-- it was applied when taken, the balance's category and whether that balance is a
-- correction's. Each allocation carries them (copied when it is made), so the report reads
-- allocations from two covering indexes instead of joining a million postings and balances.
ALTER TABLE ledger_allocations ADD COLUMN payment_type TEXT NOT NULL DEFAULT '',
    ADD COLUMN payment_period TEXT, ADD COLUMN at_once BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN category TEXT NOT NULL DEFAULT '', ADD COLUMN adjustment BIGINT NOT NULL DEFAULT 0;
UPDATE ledger_allocations a SET payment_type = p.entry_type, payment_period = p.payment_period,
    at_once = CASE WHEN a.created_on = p.created_on THEN 1 ELSE 0 END, category = b.category,
    adjustment = CASE WHEN b.reference_id LIKE 'ADJ-%' THEN 1 ELSE 0 END
    FROM ledger_postings p, ledger_balances b WHERE p.id = a.payment_posting_id AND b.id = a.balance_id;
CREATE INDEX ledger_allocations_period ON ledger_allocations (payment_period)
    INCLUDE (payment_type, at_once, created_on, category, adjustment, amount_cents) WHERE payment_period IS NOT NULL;
DROP INDEX ledger_allocations_created;
CREATE INDEX ledger_allocations_created ON ledger_allocations (created_on)
    INCLUDE (payment_type, payment_period, at_once, category, adjustment, amount_cents, balance_id, payment_posting_id, reversed);
-- Aging as of today: the open balances in lease and category order, from one index (no
-- sort of the fleet's balances, none of the closed ones read).
CREATE INDEX ledger_balances_open ON ledger_balances (lease_id, category, due_date)
    INCLUDE (balance_cents, driver_id, medallion_id) WHERE status = 'OPEN';
