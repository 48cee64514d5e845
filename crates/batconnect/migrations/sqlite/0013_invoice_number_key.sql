-- Workshop invoice numbers are unique among invoices that are not cancelled, on their
-- normalized key (filled by the service before this runs), so `baw-1187` cannot become a
-- second debt next to `BAW-1187`.
DROP INDEX repair_invoices_invoice_number;
CREATE UNIQUE INDEX repair_invoices_invoice_number_key ON repair_invoices (invoice_number_key)
    WHERE status <> 'Cancelled';
CREATE INDEX repair_invoices_invoice_number ON repair_invoices (invoice_number);
