//! Document records, the accepted file kinds and the upload form.

use serde::Serialize;
use utoipa::ToSchema;

/// A file kind we accept, recognised by its first bytes (never by its name alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
}

impl FileKind {
    /// The kind the content really is: `%PDF-`, `FF D8 FF` (JPEG) or the PNG signature.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(FileKind::Png)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
        }
    }

    fn by_extension(ext: &str) -> Option<FileKind> {
        match ext {
            "pdf" => Some(FileKind::Pdf),
            "jpg" | "jpeg" => Some(FileKind::Jpeg),
            "png" => Some(FileKind::Png),
            _ => None,
        }
    }
}

/// Why an upload is refused, each with the status it gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 422: nothing was sent.
    Empty,
    /// 415: the bytes are not a PDF, JPEG or PNG.
    UnknownContent,
    /// 415: the name's extension is one we do not take, or says another kind than the bytes.
    Extension {
        extension: String,
        actual: Option<FileKind>,
    },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Empty => "file: the file is empty".into(),
            Refusal::UnknownContent => "file: the content is not a PDF, JPEG or PNG file (checked by its bytes, not its name)".into(),
            Refusal::Extension { extension, actual: Some(kind) } => format!(
                "file: the name ends in .{extension} but the content is a {} file",
                kind.extension().to_ascii_uppercase()
            ),
            Refusal::Extension { extension, actual: None } => format!(
                "file: .{extension} files are not accepted; upload a PDF, JPEG or PNG"
            ),
        }
    }
}

/// Checks the bytes and the name together: the content decides the kind, and a name
/// that claims something else is refused.
pub fn check_file(file_name: &str, bytes: &[u8]) -> Result<FileKind, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let actual = FileKind::sniff(bytes);
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let extension = base
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| !ext.is_empty() && ext.len() <= 10);
    if let Some(ext) = extension {
        match (FileKind::by_extension(&ext), actual) {
            (Some(claimed), Some(kind)) if claimed == kind => {}
            (Some(_), Some(kind)) => {
                return Err(Refusal::Extension {
                    extension: ext,
                    actual: Some(kind),
                })
            }
            (None, _) => {
                return Err(Refusal::Extension {
                    extension: ext,
                    actual: None,
                })
            }
            (Some(_), None) => return Err(Refusal::UnknownContent),
        }
    }
    actual.ok_or(Refusal::UnknownContent)
}

/// The name kept for a download: the last path part, printable, at most 120 characters,
/// with the kind's extension when it had none.
pub fn clean_file_name(raw: &str, kind: FileKind) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        format!("document.{}", kind.extension())
    } else if !cleaned.contains('.') {
        format!("{cleaned}.{}", kind.extension())
    } else {
        cleaned
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub document_id: String,
    /// The case it was uploaded to, if any.
    pub case_no: Option<String>,
    /// The invoice it belongs to (set when the case's step creates the invoice).
    pub repair_id: Option<String>,
    pub file_name: String,
    /// Detected from the content: application/pdf, image/jpeg or image/png.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Where to download it (this service; needs a bearer token).
    pub download_url: String,
    pub uploaded_by: String,
    pub uploaded_on: String,
}

/// `multipart/form-data` with one file part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The invoice file: PDF, JPEG or PNG.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

pub fn download_url(document_id: &str) -> String {
    format!("/documents/{document_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_and_names_must_agree() {
        assert_eq!(check_file("inv.pdf", b"%PDF-1.7\n"), Ok(FileKind::Pdf));
        assert_eq!(
            check_file("scan.JPEG", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(
            check_file("photo.png", b"\x89PNG\r\n\x1a\n...."),
            Ok(FileKind::Png)
        );
        assert_eq!(check_file("no-extension", b"%PDF-1.4"), Ok(FileKind::Pdf));
        assert_eq!(
            check_file("fake.pdf", b"MZ\x90\x00"),
            Err(Refusal::UnknownContent)
        );
        assert_eq!(
            check_file("fake.pdf", b"<html>"),
            Err(Refusal::UnknownContent)
        );
        assert!(matches!(
            check_file("inv.png", b"%PDF-1.7"),
            Err(Refusal::Extension {
                actual: Some(FileKind::Pdf),
                ..
            })
        ));
        assert!(matches!(
            check_file("evil.html", b"%PDF-1.7"),
            Err(Refusal::Extension { actual: None, .. })
        ));
        assert_eq!(check_file("empty.pdf", b""), Err(Refusal::Empty));
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(
            clean_file_name("C:\\scans\\inv 12.pdf", FileKind::Pdf),
            "inv 12.pdf"
        );
        assert_eq!(
            clean_file_name("../../etc/passwd", FileKind::Pdf),
            "passwd.pdf"
        );
        assert_eq!(clean_file_name("", FileKind::Png), "document.png");
        assert_eq!(clean_file_name("a\"b\n.jpg", FileKind::Jpeg), "ab.jpg");
    }
}
