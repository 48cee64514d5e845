-- A finalized DTR is a record: its PDF is stored once in the file storage (pdf_ref is the
-- key) and the SHA-256 of those bytes is kept here, so downloads serve exactly that file
-- and `batconnect dtr verify` can prove it unchanged. Once recorded, neither changes.
ALTER TABLE dtrs ADD COLUMN pdf_ref TEXT;
ALTER TABLE dtrs ADD COLUMN pdf_sha256 TEXT;

CREATE FUNCTION dtrs_record_kept() RETURNS trigger AS $$
BEGIN
    IF OLD.pdf_sha256 IS NOT NULL
       AND (NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256 OR NEW.pdf_ref IS DISTINCT FROM OLD.pdf_ref) THEN
        RAISE EXCEPTION 'a finalized DTR''s stored PDF is a record and is never replaced';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER dtrs_record_kept BEFORE UPDATE OF pdf_ref, pdf_sha256 ON dtrs
FOR EACH ROW EXECUTE FUNCTION dtrs_record_kept();
