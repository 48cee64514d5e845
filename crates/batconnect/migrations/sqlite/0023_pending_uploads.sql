-- A file sent with a console form that was refused for another reason (a bad date, a
-- missing field) is kept for that session's next try, so the clerk need not choose it
-- again: its stored file, named by a random token the form carries, owned by the session
-- (the SHA-256 of its CSRF token). It lives at most 24 hours; the sweep removes the rest
-- with their files.
CREATE TABLE pending_uploads (
    token TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    document_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_on TEXT NOT NULL
);
CREATE INDEX pending_uploads_created ON pending_uploads (created_on);
