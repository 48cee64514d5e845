-- What each invoice's installments have been paid (partial payments included), kept by
-- the ledger's reconciliation in the same transaction as the installments' own. A narrow
-- table of its own: the statement step changes tens of thousands of these a week, and on
-- the wide, much-indexed invoice row each change cost an entry in every index.
CREATE TABLE repair_invoice_paid (
    invoice_id BIGINT PRIMARY KEY REFERENCES repair_invoices (id),
    paid_cents BIGINT NOT NULL CHECK (paid_cents >= 0)
);
INSERT INTO repair_invoice_paid (invoice_id, paid_cents)
    SELECT invoice_id, SUM(paid_amount_cents) FROM repair_installments
    GROUP BY invoice_id HAVING SUM(paid_amount_cents) > 0;

-- The invoice state the stored receipt shows; a download of a changed invoice makes a new one.
ALTER TABLE repair_invoices ADD COLUMN receipt_version TEXT;

-- Invoice numbers are unique on a normalized key (Unicode case folding, whitespace
-- collapsed) computed by the service; start-up fills it for existing rows and refuses to
-- go on, listing them, if two open invoices share a key. 0013 then makes it unique.
ALTER TABLE repair_invoices ADD COLUMN invoice_number_key TEXT;

-- A cancelled invoice's installments are cancelled too (never Scheduled or Posted).
UPDATE repair_installments SET status = 'Cancelled'
WHERE invoice_id IN (SELECT id FROM repair_invoices WHERE status = 'Cancelled');

-- An interim payment's receipt number is recorded once, also under concurrency.
CREATE UNIQUE INDEX ledger_postings_interim_receipt_once ON ledger_postings (reference_id)
    WHERE entry_type = 'INTERIM_PAYMENT';
