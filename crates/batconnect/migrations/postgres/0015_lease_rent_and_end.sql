-- A lease can end: why, when it was recorded and by whom (end_date is the last day).
ALTER TABLE leases ADD COLUMN termination_reason TEXT;
ALTER TABLE leases ADD COLUMN termination_note TEXT;
ALTER TABLE leases ADD COLUMN terminated_by TEXT;
ALTER TABLE leases ADD COLUMN terminated_on TEXT;

-- A repair invoice whose remaining installments were posted at once when its lease ended
-- (or when it was resumed after that): the date they fell due.
ALTER TABLE repair_invoices ADD COLUMN accelerated_on TEXT;
