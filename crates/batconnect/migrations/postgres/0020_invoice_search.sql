-- Search like staff type it: a part of a repair id or a workshop invoice number, in any
-- letter case, served by a trigram index per column (pg_trgm, added in 0003) at a million
-- invoices. Leases, vehicles and medallions are searched in their own (small) tables and
-- matched by these id indexes.
CREATE INDEX repair_invoices_repair_id_trgm ON repair_invoices USING gin (lower(repair_id) public.gin_trgm_ops);
CREATE INDEX repair_invoices_invoice_number_trgm ON repair_invoices USING gin (lower(invoice_number) public.gin_trgm_ops);
CREATE INDEX repair_invoices_vehicle ON repair_invoices (vehicle_id);
CREATE INDEX repair_invoices_medallion_id ON repair_invoices (medallion_id);
