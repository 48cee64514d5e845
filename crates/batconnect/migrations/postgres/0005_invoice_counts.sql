-- Invoice counts per status, kept by triggers, so the unfiltered list (and a status-only
-- filter) gets its total without counting a million rows.
CREATE TABLE repair_invoice_counts (
    status TEXT PRIMARY KEY,
    invoices BIGINT NOT NULL
);
INSERT INTO repair_invoice_counts (status, invoices)
    SELECT s.status, (SELECT COUNT(*) FROM repair_invoices v WHERE v.status = s.status)
    FROM (VALUES ('Draft'), ('Open'), ('Closed'), ('Hold'), ('Cancelled')) AS s (status);

CREATE FUNCTION repair_invoices_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE repair_invoice_counts SET invoices = invoices - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE repair_invoice_counts SET invoices = invoices + 1 WHERE status = NEW.status;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER repair_invoices_count_insert_delete AFTER INSERT OR DELETE ON repair_invoices
    FOR EACH ROW EXECUTE FUNCTION repair_invoices_count();
CREATE TRIGGER repair_invoices_count_update AFTER UPDATE OF status ON repair_invoices
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION repair_invoices_count();

-- Partial driver-name search goes through the drivers table (small) and its trigram
-- index; the invoice-level trigram index is no longer used.
DROP INDEX repair_invoices_driver_name_trgm;
CREATE INDEX drivers_full_name_trgm ON drivers USING gin (lower(full_name) public.gin_trgm_ops);
