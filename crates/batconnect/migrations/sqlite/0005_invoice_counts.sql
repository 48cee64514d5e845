-- Invoice counts per status, kept by triggers, so the unfiltered list (and a status-only
-- filter) gets its total without counting a million rows.
CREATE TABLE repair_invoice_counts (
    status TEXT PRIMARY KEY,
    invoices BIGINT NOT NULL
);
INSERT INTO repair_invoice_counts (status, invoices)
    SELECT s.status, (SELECT COUNT(*) FROM repair_invoices v WHERE v.status = s.status)
    FROM (SELECT 'Draft' AS status UNION ALL SELECT 'Open' UNION ALL SELECT 'Closed' UNION ALL SELECT 'Hold' UNION ALL SELECT 'Cancelled') s;

CREATE TRIGGER repair_invoices_count_insert AFTER INSERT ON repair_invoices
BEGIN
    UPDATE repair_invoice_counts SET invoices = invoices + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER repair_invoices_count_update AFTER UPDATE OF status ON repair_invoices
WHEN OLD.status <> NEW.status
BEGIN
    UPDATE repair_invoice_counts SET invoices = invoices - 1 WHERE status = OLD.status;
    UPDATE repair_invoice_counts SET invoices = invoices + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER repair_invoices_count_delete AFTER DELETE ON repair_invoices
BEGIN
    UPDATE repair_invoice_counts SET invoices = invoices - 1 WHERE status = OLD.status;
END;

-- Partial driver-name search goes through the drivers table (small) and this index.
CREATE INDEX drivers_full_name_lower ON drivers (lower(full_name));
