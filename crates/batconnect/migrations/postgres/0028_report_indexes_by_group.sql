-- What repairs cost: SQLite's migration 0028 gives each grouping an index in its own order
-- (SQLite sorts whatever it groups). PostgreSQL needs none: it aggregates the date range of
-- migration 0027's covering index in a hash table. This keeps the two numberings in step.
SELECT 1;
