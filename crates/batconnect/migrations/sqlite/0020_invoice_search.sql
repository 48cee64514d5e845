-- Search like staff type it: a part of a repair id or a workshop invoice number, in any
-- letter case. SQLite has no trigram index on a column; its full-text engine has a trigram
-- tokenizer whose table serves `LIKE '%part%'` for parts of 3 or more characters. The table
-- holds no text of its own (external content: the invoices' rows) and follows the invoices
-- through triggers on the searched columns only, so status and payment updates cost
-- nothing here. Leases, vehicles and medallions are searched in their own (small) tables
-- and matched by these id indexes.
CREATE VIRTUAL TABLE repair_invoice_search USING fts5(
    repair_id, invoice_number,
    content = 'repair_invoices', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO repair_invoice_search (repair_invoice_search) VALUES ('rebuild');
CREATE TRIGGER repair_invoice_search_insert AFTER INSERT ON repair_invoices BEGIN
    INSERT INTO repair_invoice_search (rowid, repair_id, invoice_number)
    VALUES (new.id, new.repair_id, new.invoice_number);
END;
CREATE TRIGGER repair_invoice_search_delete AFTER DELETE ON repair_invoices BEGIN
    INSERT INTO repair_invoice_search (repair_invoice_search, rowid, repair_id, invoice_number)
    VALUES ('delete', old.id, old.repair_id, old.invoice_number);
END;
CREATE TRIGGER repair_invoice_search_update AFTER UPDATE OF repair_id, invoice_number ON repair_invoices BEGIN
    INSERT INTO repair_invoice_search (repair_invoice_search, rowid, repair_id, invoice_number)
    VALUES ('delete', old.id, old.repair_id, old.invoice_number);
    INSERT INTO repair_invoice_search (rowid, repair_id, invoice_number)
    VALUES (new.id, new.repair_id, new.invoice_number);
END;
CREATE INDEX repair_invoices_vehicle ON repair_invoices (vehicle_id);
CREATE INDEX repair_invoices_medallion_id ON repair_invoices (medallion_id);
