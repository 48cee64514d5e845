-- Console sessions: the browser holds a random secret in an HttpOnly cookie; only its
-- SHA-256 is stored here, with the user's token generation at sign-in (a password reset,
-- role change or disabling the user ends the session), the session's CSRF token and when
-- it expires. Signing out deletes the row.
CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_generation BIGINT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_on TEXT NOT NULL,
    expires_on TEXT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_on);

-- The console lists a case type's unfinished (still Open) cases, newest first.
CREATE INDEX cases_unfinished ON cases (case_type_id, status, id);
