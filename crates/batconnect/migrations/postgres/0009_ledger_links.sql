-- The Sunday run writes a balance per posting and the DTR step an allocation per paid
-- balance, hundreds of thousands of rows; each foreign key costs a lookup and a row lock
-- on the referenced row for every one of them. The referenced rows can never go away
-- (postings are immutable and undeletable; balances and allocations are closed or marked
-- reversed, never deleted, enforced below), and the service writes every link from the
-- row it has just inserted or read in the same transaction, so these keys guard nothing.
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_obligation_posting_id_fkey;
ALTER TABLE ledger_allocations DROP CONSTRAINT ledger_allocations_payment_posting_id_fkey;
ALTER TABLE ledger_allocations DROP CONSTRAINT ledger_allocations_balance_id_fkey;
-- Covered by the unique (payment_posting_id, balance_id) index.
DROP INDEX ledger_allocations_payment;

CREATE FUNCTION ledger_rows_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are kept for history: % is not allowed', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER ledger_balances_kept BEFORE DELETE OR TRUNCATE ON ledger_balances
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_rows_kept();
CREATE TRIGGER ledger_allocations_kept BEFORE DELETE OR TRUNCATE ON ledger_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_rows_kept();

-- The weekly run's work list: only Scheduled installments, in the order the run walks
-- them. An installment leaving Scheduled leaves this index instead of adding an entry.
DROP INDEX repair_installments_due;
CREATE INDEX repair_installments_due ON repair_installments (week_start_date, id) WHERE status = 'Scheduled';
