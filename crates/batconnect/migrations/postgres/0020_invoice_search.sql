-- Search like staff type it: a part of a repair id, workshop invoice number, lease id,
-- medallion number or VIN, in any letter case, served by a trigram index per column
-- (pg_trgm, added in 0003) at a million invoices.
CREATE INDEX repair_invoices_repair_id_trgm ON repair_invoices USING gin (lower(repair_id) public.gin_trgm_ops);
CREATE INDEX repair_invoices_invoice_number_trgm ON repair_invoices USING gin (lower(invoice_number) public.gin_trgm_ops);
CREATE INDEX repair_invoices_lease_ref_trgm ON repair_invoices USING gin (lower(lease_ref) public.gin_trgm_ops);
CREATE INDEX repair_invoices_medallion_trgm ON repair_invoices USING gin (lower(medallion_number) public.gin_trgm_ops);
CREATE INDEX repair_invoices_vin_trgm ON repair_invoices USING gin (lower(vin) public.gin_trgm_ops);
-- The installments list and the ledger name leases, vehicles and medallions by id.
CREATE INDEX repair_invoices_vehicle ON repair_invoices (vehicle_id);
CREATE INDEX repair_invoices_medallion_id ON repair_invoices (medallion_id);
