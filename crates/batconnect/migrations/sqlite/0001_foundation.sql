-- Foundation: counters, settings, users, audit trail, fleet registry.
-- Money is integer cents (*_cents); dates are ISO text (YYYY-MM-DD); times are RFC 3339 UTC text.

CREATE TABLE id_sequences (
    name TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE app_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL,
    created_by TEXT,
    updated_on TEXT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    case_no TEXT,
    step_id TEXT,
    details TEXT,
    created_on TEXT NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_no, id);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);

CREATE TABLE drivers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    driver_id TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    middle_name TEXT,
    last_name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    tlc_license_no TEXT NOT NULL UNIQUE,
    phone TEXT,
    email TEXT,
    status TEXT NOT NULL,
    pay_to TEXT NOT NULL,
    created_on TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX drivers_full_name ON drivers (lower(full_name));

CREATE TABLE medallions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    medallion_number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_on TEXT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE vehicles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vin TEXT NOT NULL UNIQUE,
    make TEXT NOT NULL,
    model TEXT NOT NULL,
    year INTEGER NOT NULL,
    plate_number TEXT,
    created_on TEXT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lease_id TEXT NOT NULL UNIQUE,
    lease_type TEXT NOT NULL,
    status TEXT NOT NULL,
    weekly_rate_cents BIGINT NOT NULL,
    vehicle_id BIGINT NOT NULL REFERENCES vehicles (id),
    medallion_id BIGINT NOT NULL REFERENCES medallions (id),
    start_date TEXT NOT NULL,
    end_date TEXT,
    created_on TEXT NOT NULL,
    created_by TEXT NOT NULL
);
-- A medallion is in at most one active lease at a time.
CREATE UNIQUE INDEX leases_one_active_per_medallion ON leases (medallion_id) WHERE status = 'Active';
CREATE INDEX leases_vehicle ON leases (vehicle_id);

CREATE TABLE lease_drivers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lease_id BIGINT NOT NULL REFERENCES leases (id),
    driver_id BIGINT NOT NULL REFERENCES drivers (id),
    is_driver_manager INTEGER NOT NULL,
    is_additional_driver INTEGER NOT NULL,
    created_on TEXT NOT NULL,
    UNIQUE (lease_id, driver_id)
);
CREATE UNIQUE INDEX lease_drivers_one_manager ON lease_drivers (lease_id) WHERE is_driver_manager = 1;
CREATE INDEX lease_drivers_driver ON lease_drivers (driver_id);
