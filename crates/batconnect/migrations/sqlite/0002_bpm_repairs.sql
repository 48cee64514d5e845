-- Case engine (BPM) and vehicle repairs. Table and column names follow the customer's guide.

CREATE TABLE case_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    created_on TEXT NOT NULL
);

CREATE TABLE case_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO case_statuses (name) VALUES ('Open'), ('In Progress'), ('Closed');

CREATE TABLE case_step_configs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    step_id TEXT NOT NULL UNIQUE,
    step_name TEXT NOT NULL,
    case_type_id BIGINT NOT NULL REFERENCES case_types (id),
    next_step_id TEXT,
    allowed_roles TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL
);

-- is_active is an integer flag so the guide's `VALUES (X, '...', 1, NOW())` works as written.
-- The newest active row (highest id) of a step wins.
CREATE TABLE case_step_config_paths (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_step_config_id BIGINT NOT NULL REFERENCES case_step_configs (id),
    path TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL
);
CREATE INDEX case_step_config_paths_step ON case_step_config_paths (case_step_config_id, is_active, id);

CREATE TABLE case_type_first_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_type_id BIGINT NOT NULL UNIQUE REFERENCES case_types (id),
    case_step_config_id BIGINT NOT NULL REFERENCES case_step_configs (id)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_no TEXT NOT NULL UNIQUE,
    case_type_id BIGINT NOT NULL REFERENCES case_types (id),
    status TEXT NOT NULL,
    current_step_id TEXT,
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL
);
CREATE INDEX cases_type ON cases (case_type_id, id);

CREATE TABLE case_entities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_no TEXT NOT NULL REFERENCES cases (case_no),
    entity_name TEXT NOT NULL,
    identifier TEXT NOT NULL,
    identifier_value TEXT NOT NULL,
    created_on TEXT NOT NULL,
    UNIQUE (case_no, entity_name, identifier_value)
);

CREATE TABLE repair_invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repair_id TEXT NOT NULL UNIQUE,
    invoice_number TEXT NOT NULL,
    invoice_date TEXT NOT NULL,
    driver_id BIGINT NOT NULL REFERENCES drivers (id),
    lease_id BIGINT NOT NULL REFERENCES leases (id),
    vehicle_id BIGINT NOT NULL REFERENCES vehicles (id),
    medallion_id BIGINT NOT NULL REFERENCES medallions (id),
    -- Snapshot of the names shown in lists, taken when the invoice is recorded, so the
    -- list filters and sorts on one table.
    driver_name TEXT NOT NULL,
    lease_ref TEXT NOT NULL,
    lease_type TEXT NOT NULL,
    medallion_number TEXT NOT NULL,
    vin TEXT NOT NULL,
    workshop_type TEXT NOT NULL,
    notes TEXT,
    total_amount_cents BIGINT NOT NULL,
    weekly_installment_cents BIGINT NOT NULL,
    start_week TEXT NOT NULL,
    status TEXT NOT NULL,
    receipt_ref TEXT,
    case_no TEXT REFERENCES cases (case_no),
    created_by TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_on TEXT NOT NULL
);
-- Invoice numbers are unique among invoices that are not cancelled.
CREATE UNIQUE INDEX repair_invoices_invoice_number ON repair_invoices (invoice_number) WHERE status <> 'Cancelled';
-- One invoice per case: a resubmitted step can never create a second one.
CREATE UNIQUE INDEX repair_invoices_case_no ON repair_invoices (case_no) WHERE case_no IS NOT NULL;
CREATE INDEX repair_invoices_invoice_date ON repair_invoices (invoice_date, id);
CREATE INDEX repair_invoices_status_date ON repair_invoices (status, invoice_date);
CREATE INDEX repair_invoices_amount ON repair_invoices (total_amount_cents);
CREATE INDEX repair_invoices_driver_name ON repair_invoices (lower(driver_name));
CREATE INDEX repair_invoices_medallion ON repair_invoices (medallion_number);
CREATE INDEX repair_invoices_lease ON repair_invoices (lease_id);
CREATE INDEX repair_invoices_lease_ref ON repair_invoices (lease_ref);
CREATE INDEX repair_invoices_vin ON repair_invoices (vin);
CREATE INDEX repair_invoices_driver ON repair_invoices (driver_id);

CREATE TABLE repair_installments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    installment_id TEXT NOT NULL UNIQUE,
    invoice_id BIGINT NOT NULL REFERENCES repair_invoices (id),
    sequence INTEGER NOT NULL,
    week_start_date TEXT NOT NULL,
    week_end_date TEXT NOT NULL,
    principal_amount_cents BIGINT NOT NULL,
    paid_amount_cents BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    ledger_posting_ref TEXT,
    posted_on TEXT,
    created_on TEXT NOT NULL,
    UNIQUE (invoice_id, sequence)
);
CREATE INDEX repair_installments_due ON repair_installments (status, week_start_date);
CREATE INDEX repair_installments_week ON repair_installments (week_start_date, id);
