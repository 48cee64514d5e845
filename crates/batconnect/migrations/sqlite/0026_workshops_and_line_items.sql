-- The workshops registry replaces the two workshop words as the source of truth. Each word
-- becomes its kind's default workshop (default_for_kind = the kind; NULL on every other row,
-- so at most one default per kind): the step's `workshop_type` alone picks it, and every
-- existing invoice points at it. An invoice keeps `workshop_type` as the word of its
-- workshop's kind, so the guide's list field and filter read as before.
CREATE TABLE workshops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    -- The name in lower case with single spaces: two workshops cannot share a name.
    name_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('in_house', 'external')),
    address TEXT,
    phone TEXT,
    email TEXT,
    tax_registration_no TEXT,
    is_active BIGINT NOT NULL DEFAULT 1,
    default_for_kind TEXT UNIQUE CHECK (default_for_kind IS NULL OR default_for_kind = kind),
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_on TEXT NOT NULL
);
INSERT INTO workshops (name, name_key, kind, address, is_active, default_for_kind, created_by, created_on, updated_by, updated_on)
VALUES ('Big Apple Workshop', 'big apple workshop', 'in_house', NULL, 1, 'in_house', 'system', '2026-12-07T00:00:00Z', 'system', '2026-12-07T00:00:00Z'),
       ('External Workshop', 'external workshop', 'external', NULL, 1, 'external', 'system', '2026-12-07T00:00:00Z', 'system', '2026-12-07T00:00:00Z');

-- SQLite cannot add a NOT NULL column without a default; every insert names the workshop.
ALTER TABLE repair_invoices ADD COLUMN workshop_id BIGINT REFERENCES workshops (id);
UPDATE repair_invoices SET workshop_id = (SELECT w.id FROM workshops w
    WHERE w.default_for_kind = CASE repair_invoices.workshop_type WHEN 'Big Apple Workshop' THEN 'in_house' ELSE 'external' END);
-- What the lines add up to, kept on the invoice so reports group without reading lines.
-- line_count 0: an invoice given as one total (its subtotals stay 0).
ALTER TABLE repair_invoices ADD COLUMN line_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repair_invoices ADD COLUMN tax_rate_thousandths BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repair_invoices ADD COLUMN parts_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repair_invoices ADD COLUMN labour_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repair_invoices ADD COLUMN fees_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repair_invoices ADD COLUMN discounts_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repair_invoices ADD COLUMN tax_cents BIGINT NOT NULL DEFAULT 0;
CREATE INDEX repair_invoices_workshop ON repair_invoices (workshop_id, invoice_date);

-- A workshop's invoice as written: one row per line, in the order sent.
CREATE TABLE repair_invoice_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id BIGINT NOT NULL REFERENCES repair_invoices (id),
    position BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('part', 'labour', 'fee', 'discount')),
    description TEXT NOT NULL,
    part_number TEXT,
    quantity_thousandths BIGINT NOT NULL CHECK (quantity_thousandths > 0),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents > 0),
    taxable BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    UNIQUE (invoice_id, position)
);
