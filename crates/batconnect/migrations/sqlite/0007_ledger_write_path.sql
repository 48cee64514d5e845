-- Counterpart of the PostgreSQL migration of the same number: there, per-row foreign-key
-- triggers on the ledger's copied master-data columns are dropped for write speed. SQLite
-- checks those references cheaply (and dropping them would mean rebuilding the tables), so
-- only the redundant index goes.
-- Covered by ledger_postings_entry_period (entry_type, payment_period, lease_id).
DROP INDEX ledger_postings_period;
