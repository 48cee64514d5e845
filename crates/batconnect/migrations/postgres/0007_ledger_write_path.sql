-- The ledger is the high-volume write path (the Sunday run posts hundreds of thousands of
-- rows). Its driver/lease/vehicle/medallion columns are copied from invoices and leases
-- that already enforce those references, and rows are never updated afterwards, so the
-- per-row foreign-key triggers there buy nothing but time. Links between ledger rows
-- (balance → posting, allocation → posting/balance, reversal → posting) keep theirs.
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_driver_id_fkey;
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_lease_id_fkey;
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_vehicle_id_fkey;
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_medallion_id_fkey;
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_driver_id_fkey;
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_lease_id_fkey;
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_vehicle_id_fkey;
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_medallion_id_fkey;
-- Covered by ledger_postings_entry_period (entry_type, payment_period, lease_id).
DROP INDEX ledger_postings_period;
