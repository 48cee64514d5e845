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

/// What the intake keeps of a file while it streams to storage: its size, its first
/// bytes (the signature and the first chunk header) and its last KiB (where PDF, JPEG and
/// PNG each end with a marker), enough to check its structure without holding it whole.
#[derive(Debug, Default)]
pub struct FileShape {
    head: Vec<u8>,
    tail: Vec<u8>,
    size: u64,
}

const HEAD_BYTES: usize = 16;
/// PDF readers look for `%%EOF` within the last 1024 bytes; so do we.
const TAIL_BYTES: usize = 1024;

impl FileShape {
    /// The shape of a file already in memory.
    #[cfg(test)]
    pub fn of(bytes: &[u8]) -> FileShape {
        let mut shape = FileShape::default();
        shape.feed(bytes);
        shape
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        let keep = chunk.len().min(TAIL_BYTES);
        self.tail.extend_from_slice(&chunk[chunk.len() - keep..]);
        if self.tail.len() > TAIL_BYTES {
            self.tail.drain(..self.tail.len() - TAIL_BYTES);
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether a file that starts like `kind` also has that kind's structure: a PDF ends
    /// with `%%EOF`, a PNG's first chunk is its IHDR and its last the IEND, a JPEG ends with
    /// its end-of-image marker. A signature alone is not a file.
    fn is_whole(&self, kind: FileKind) -> bool {
        let tail = &self.tail[..];
        match kind {
            FileKind::Pdf => tail.windows(5).any(|w| w == b"%%EOF"),
            FileKind::Png => {
                // signature, IHDR (4+4+13+4 bytes), IEND (12 bytes)
                self.size >= 8 + 25 + 12
                    && self.head.get(8..16) == Some(&b"\0\0\0\rIHDR"[..])
                    && tail.ends_with(b"\0\0\0\0IEND\xAE\x42\x60\x82")
            }
            FileKind::Jpeg => self.size >= 4 && tail.windows(2).any(|w| w == [0xFF, 0xD9]),
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
    /// 415: it starts like a PDF, JPEG or PNG but is cut short or damaged.
    Damaged(FileKind),
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
            Refusal::Damaged(kind) => format!(
                "file: the {} file is incomplete or damaged (its structure does not end as a {} does); upload the whole file",
                kind.extension().to_ascii_uppercase(),
                kind.extension().to_ascii_uppercase()
            ),
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

/// Checks the file and its name together: the content decides the kind, its structure
/// must be whole, and a name that claims something else is refused.
pub fn check_file(file_name: &str, shape: &FileShape) -> Result<FileKind, Refusal> {
    if shape.size == 0 {
        return Err(Refusal::Empty);
    }
    let actual = FileKind::sniff(&shape.head);
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
    let kind = actual.ok_or(Refusal::UnknownContent)?;
    if shape.is_whole(kind) {
        Ok(kind)
    } else {
        Err(Refusal::Damaged(kind))
    }
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

    const PDF: &[u8] =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    /// A whole 1×1 PNG: signature, IHDR, IDAT, IEND.
    pub const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0xFF, 0xD9,
    ];

    #[test]
    fn content_decides_and_names_must_agree() {
        let check = |name: &str, bytes: &[u8]| check_file(name, &FileShape::of(bytes));
        assert_eq!(check("inv.pdf", PDF), Ok(FileKind::Pdf));
        assert_eq!(check("scan.JPEG", JPEG), Ok(FileKind::Jpeg));
        assert_eq!(check("photo.png", PNG), Ok(FileKind::Png));
        assert_eq!(check("no-extension", PDF), Ok(FileKind::Pdf));
        assert_eq!(
            check("fake.pdf", b"MZ\x90\x00"),
            Err(Refusal::UnknownContent)
        );
        assert_eq!(check("fake.pdf", b"<html>"), Err(Refusal::UnknownContent));
        assert!(matches!(
            check("inv.png", PDF),
            Err(Refusal::Extension {
                actual: Some(FileKind::Pdf),
                ..
            })
        ));
        assert!(matches!(
            check("evil.html", PDF),
            Err(Refusal::Extension { actual: None, .. })
        ));
        assert_eq!(check("empty.pdf", b""), Err(Refusal::Empty));
    }

    #[test]
    fn a_signature_alone_is_not_a_file() {
        let check = |name: &str, bytes: &[u8]| check_file(name, &FileShape::of(bytes));
        assert_eq!(
            check("a.png", b"\x89PNG\r\n\x1a\n\0\0\0\0"),
            Err(Refusal::Damaged(FileKind::Png))
        );
        assert_eq!(
            check("a.png", &PNG[..PNG.len() - 12]),
            Err(Refusal::Damaged(FileKind::Png))
        );
        assert_eq!(
            check("a.pdf", b"%PDF-1.7\n"),
            Err(Refusal::Damaged(FileKind::Pdf))
        );
        assert_eq!(
            check("a.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Err(Refusal::Damaged(FileKind::Jpeg))
        );
    }

    #[test]
    fn the_shape_sees_the_same_file_whatever_the_chunks() {
        let big: Vec<u8> = PDF[..9]
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'x', 5000))
            .chain(b"\n%%EOF\n".iter().copied())
            .collect();
        for chunk in [1, 7, 1000, 1024, 1025, 10_000] {
            let mut shape = FileShape::default();
            big.chunks(chunk).for_each(|c| shape.feed(c));
            assert_eq!(shape.size(), big.len() as u64);
            assert_eq!(
                check_file("big.pdf", &shape),
                Ok(FileKind::Pdf),
                "chunks of {chunk}"
            );
        }
        let mut cut = FileShape::default();
        big[..big.len() - 8].chunks(100).for_each(|c| cut.feed(c));
        assert_eq!(
            check_file("big.pdf", &cut),
            Err(Refusal::Damaged(FileKind::Pdf))
        );
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
