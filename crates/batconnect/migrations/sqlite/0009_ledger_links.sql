-- Counterpart of the PostgreSQL migration of the same number. SQLite checks its foreign
-- keys cheaply and dropping them would mean rebuilding the tables, so they stay; balances
-- and allocations are made undeletable here too, and the redundant index goes.
-- Covered by the unique (payment_posting_id, balance_id) index.
DROP INDEX ledger_allocations_payment;

CREATE TRIGGER ledger_balances_kept BEFORE DELETE ON ledger_balances
BEGIN
    SELECT RAISE(ABORT, 'ledger_balances rows are kept for history: DELETE is not allowed');
END;
CREATE TRIGGER ledger_allocations_kept BEFORE DELETE ON ledger_allocations
BEGIN
    SELECT RAISE(ABORT, 'ledger_allocations rows are kept for history: DELETE is not allowed');
END;

-- The weekly run's work list: only Scheduled installments, in the order the run walks
-- them. An installment leaving Scheduled leaves this index instead of adding an entry.
DROP INDEX repair_installments_due;
CREATE INDEX repair_installments_due ON repair_installments (week_start_date, id) WHERE status = 'Scheduled';
