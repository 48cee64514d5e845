-- Uploaded files (the workshop's invoice: PDF, JPEG or PNG) attached to a repair case
-- and/or a repair invoice. The bytes live in file storage under `storage_key`.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL UNIQUE,
    case_no TEXT REFERENCES cases (case_no),
    invoice_id BIGINT REFERENCES repair_invoices (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_on TEXT NOT NULL,
    CHECK (case_no IS NOT NULL OR invoice_id IS NOT NULL)
);
CREATE INDEX documents_case_no ON documents (case_no);
CREATE INDEX documents_invoice_id ON documents (invoice_id);
