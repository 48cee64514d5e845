-- A user's token generation: every bearer token and console session carries the one it
-- was issued under and is refused once the user's has moved on (a password reset, a role
-- change, disabling the user).
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
