-- A finalized DTR is a record: its PDF is stored once in the file storage (pdf_ref is the
-- key) and the SHA-256 of those bytes is kept here, so downloads serve exactly that file
-- and `batconnect dtr verify` can prove it unchanged. Once recorded, neither changes.
ALTER TABLE dtrs ADD COLUMN pdf_ref TEXT;
ALTER TABLE dtrs ADD COLUMN pdf_sha256 TEXT;

CREATE TRIGGER dtrs_record_kept BEFORE UPDATE OF pdf_ref, pdf_sha256 ON dtrs
WHEN OLD.pdf_sha256 IS NOT NULL
  AND (NEW.pdf_sha256 IS NOT OLD.pdf_sha256 OR NEW.pdf_ref IS NOT OLD.pdf_ref)
BEGIN SELECT RAISE(ABORT, 'a finalized DTR''s stored PDF is a record and is never replaced'); END;
