-- Invoice numbers are unique on their letters and digits only (`BAW-77123`, `baw 77123`
-- and `BAW_77123` are one invoice). The keys were recomputed under that rule just before
-- this runs (`db::migrations::rekey_invoice_numbers`, which refuses to go on while any two
-- open invoices share a key); the unique index on them stayed in place, and is made sure of
-- here.
CREATE UNIQUE INDEX IF NOT EXISTS repair_invoices_invoice_number_key ON repair_invoices (invoice_number_key)
    WHERE status <> 'Cancelled';
