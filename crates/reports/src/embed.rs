//! Embedding the fonts a document used: glyph ids for content streams while
//! pages are drawn, then one subset font program per face at the end.
//!
//! Each face is written as a Type 0 font with Identity-H encoding over a
//! CIDFontType2 (TrueType outlines) descendant. Glyphs are numbered in the
//! order a document first draws them ([`subsetter::GlyphRemapper`]), so the
//! two-byte codes in a content stream are final the moment a page is drawn
//! and pages can be compressed and written straight away; at the end the
//! font is cut down to exactly those glyphs. A `/ToUnicode` map gives every
//! glyph its character back, so copying text or `pdftotext` yields what the
//! service wrote.
//!
//! The code of the n-th glyph is two printable ASCII bytes that need no
//! escaping in a PDF string (never `(`, `)` or `\`), mapped to the glyph by a
//! `/CIDToGIDMap`: a cell's text costs two bytes a character in the content
//! stream instead of five (`\000a`), which halves what a 100,000-row export
//! compresses.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;

use crate::fonts::Font;
use crate::text::Shaped;

const IDENTITY: SystemInfo = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The glyphs one face has used so far in a document.
struct Subset {
    remapper: GlyphRemapper,
    /// Character of each new glyph id (index = new id; 0 is `.notdef`).
    chars: Vec<char>,
}

impl Subset {
    fn new() -> Self {
        Subset {
            remapper: GlyphRemapper::new(),
            chars: vec!['\u{FFFD}'],
        }
    }
}

/// Glyph bookkeeping for one document.
pub(crate) struct Embedder {
    subsets: [Subset; 2],
}

impl Embedder {
    pub(crate) fn new() -> Self {
        Embedder {
            subsets: [Subset::new(), Subset::new()],
        }
    }

    /// The content-stream bytes of a line: two-byte glyph codes of the subset.
    pub(crate) fn encode(&mut self, font: Font, line: &[Shaped]) -> Vec<u8> {
        let subset = &mut self.subsets[font.index()];
        let mut out = Vec::with_capacity(line.len() * 2);
        for s in line {
            let new = subset.remapper.remap(s.glyph.id);
            if usize::from(new) == subset.chars.len() {
                subset.chars.push(s.ch);
            }
            out.extend_from_slice(&code_of(new).to_be_bytes());
        }
        out
    }

    /// Writes each face (its Type 0 font at `font_refs[face index]`) with its
    /// subset, widths and Unicode map. `alloc` hands out fresh object ids.
    pub(crate) fn write(self, pdf: &mut Pdf, font_refs: [Ref; 2], mut alloc: impl FnMut() -> Ref) {
        for (font, subset) in Font::ALL.into_iter().zip(self.subsets) {
            write_face(pdf, font, subset, font_refs[font.index()], &mut alloc);
        }
    }
}

fn write_face(
    pdf: &mut Pdf,
    font: Font,
    subset: Subset,
    type0: Ref,
    alloc: &mut impl FnMut() -> Ref,
) {
    let face = font.face();
    let cid_ref = alloc();
    let descriptor_ref = alloc();
    let file_ref = alloc();
    let cmap_ref = alloc();

    let old_ids: Vec<u16> = subset.remapper.remapped_gids().collect();
    let base_font = format!("{}+{}", subset_tag(&old_ids), face.postscript_name);
    let base_font = Name(base_font.as_bytes());

    pdf.type0_font(type0)
        .base_font(base_font)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_ref)
        .to_unicode(cmap_ref);

    let map_ref = alloc();
    let mut cid = pdf.cid_font(cid_ref);
    cid.subtype(CidFontType::Type2)
        .base_font(base_font)
        .system_info(IDENTITY)
        .font_descriptor(descriptor_ref)
        .cid_to_gid_map_stream(map_ref);
    {
        // Runs of consecutive codes, each with its glyphs' widths.
        let mut widths = cid.widths();
        let mut run: Vec<f32> = Vec::new();
        let mut run_start = 0u16;
        for (new, &old) in old_ids.iter().enumerate() {
            let code = code_of(new as u16);
            if !run.is_empty() && code != run_start + run.len() as u16 {
                widths.consecutive(run_start, run.drain(..));
            }
            if run.is_empty() {
                run_start = code;
            }
            run.push(face.advance_of(old).round());
        }
        if !run.is_empty() {
            widths.consecutive(run_start, run);
        }
    }
    cid.finish();

    // Code → subset glyph id, two bytes each, for every code up to the last used.
    let last_code = code_of(old_ids.len().saturating_sub(1) as u16);
    let mut map = vec![0u8; 2 * (usize::from(last_code) + 1)];
    for new in 0..old_ids.len() {
        let code = usize::from(code_of(new as u16));
        map[2 * code..2 * code + 2].copy_from_slice(&(new as u16).to_be_bytes());
    }
    pdf.stream(map_ref, &crate::pdf::deflate(&map))
        .filter(Filter::FlateDecode);

    let mut flags = FontFlags::NON_SYMBOLIC;
    if face.bold {
        flags |= FontFlags::FORCE_BOLD;
    }
    let [x0, y0, x1, y1] = face.bbox;
    pdf.font_descriptor(descriptor_ref)
        .name(base_font)
        .flags(flags)
        .bbox(Rect::new(x0, y0, x1, y1))
        .italic_angle(face.italic_angle)
        .ascent(face.ascent)
        .descent(face.descent)
        .cap_height(face.cap_height)
        .stem_v(if face.bold { 140.0 } else { 80.0 })
        .font_file2(file_ref);

    // Subsetting a compiled-in TrueType font only fails on a defect in the
    // font or the subsetter; embedding the whole font is then still right.
    let program =
        subsetter::subset(face.data, 0, &subset.remapper).unwrap_or_else(|_| face.data.to_vec());
    let compressed = crate::pdf::deflate(&program);
    pdf.stream(file_ref, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), program.len() as i32);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), IDENTITY);
    for (new_id, &c) in subset.chars.iter().enumerate().skip(1) {
        cmap.pair(code_of(new_id as u16), c);
    }
    pdf.cmap(cmap_ref, &cmap.finish());
}

/// Bytes a code is made of: printable ASCII without `(`, `)` and `\`, so a
/// PDF string of codes is written as is.
const CODE_BYTES: &[u8; 91] =
    b"!\"#$%&'*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// The two-byte code of the n-th glyph of a subset. DejaVu has fewer than
/// 91 × 91 glyphs, so every glyph has one.
fn code_of(n: u16) -> u16 {
    let n = usize::from(n).min(CODE_BYTES.len() * CODE_BYTES.len() - 1);
    u16::from_be_bytes([
        CODE_BYTES[n / CODE_BYTES.len()],
        CODE_BYTES[n % CODE_BYTES.len()],
    ])
}

/// Six capital letters naming a subset (PDF 32000-1 §9.6.4), derived from the
/// glyphs it holds so the same document always renders to the same bytes.
fn subset_tag(glyphs: &[u16]) -> String {
    // FNV-1a: stable across builds and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for g in glyphs {
        for b in g.to_be_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((hash >> (i * 8)) % 26) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_tags_are_six_capitals_and_follow_the_glyphs() {
        let a = subset_tag(&[0, 36, 37]);
        assert_eq!(a.len(), 6);
        assert!(a.bytes().all(|b| b.is_ascii_uppercase()));
        assert_eq!(a, subset_tag(&[0, 36, 37]));
        assert_ne!(a, subset_tag(&[0, 36, 38]));
    }

    #[test]
    fn glyph_codes_are_numbered_in_order_of_first_use() {
        let mut embedder = Embedder::new();
        let line = crate::text::shape("abca", Font::Regular);
        assert_eq!(
            embedder.encode(Font::Regular, &line),
            b"!\"!#!$!\"".to_vec()
        );
        let bold = crate::text::shape("c", Font::Bold);
        assert_eq!(embedder.encode(Font::Bold, &bold), b"!\"".to_vec());
        assert_eq!(embedder.subsets[0].chars, ['\u{FFFD}', 'a', 'b', 'c']);
    }

    #[test]
    fn codes_are_printable_distinct_and_never_need_escaping() {
        let codes: Vec<u16> = (0..8281).map(code_of).collect();
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        for code in codes {
            for b in code.to_be_bytes() {
                assert!(
                    (0x21..=0x7E).contains(&b) && !b"()\\".contains(&b),
                    "{b:#x}"
                );
            }
        }
        assert!(
            code_of(90) < code_of(91),
            "codes grow with the glyph number"
        );
    }
}
