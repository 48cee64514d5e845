-- A medallion's status follows its leases: Assigned while a lease on it is open (In Progress,
-- Active or Suspended), Available once none is; Retired stays. Until now nothing changed it
-- when its lease ended (nor when a lease was made), so rows are put right here.
UPDATE medallions SET status = CASE WHEN EXISTS (SELECT 1 FROM leases l WHERE l.medallion_id = medallions.id
    AND l.status IN ('In Progress', 'Active', 'Suspended')) THEN 'Assigned' ELSE 'Available' END
WHERE status <> 'Retired';
