-- A balance belongs to one obligation posting (UNIQUE obligation_posting_id), and that
-- posting is already unique per (category, reference_id): the balances' own copy of that
-- key cost an index entry per balance on the Sunday run. Balances are found by reference
-- through the postings' index instead. (SQLite's migration of this number also rebuilds
-- its ledger tables without the per-row foreign keys that 0007 and 0009 dropped here.)
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_category_reference_id_key;
