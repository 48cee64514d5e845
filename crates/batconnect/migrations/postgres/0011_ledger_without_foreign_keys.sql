-- SQLite's migration of this number rebuilds its ledger tables without the per-row
-- foreign keys that 0007 and 0009 dropped here; nothing is left to change on PostgreSQL.
SELECT 1;
