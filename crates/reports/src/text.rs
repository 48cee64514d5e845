//! Text for the standard Type 1 fonts: WinAnsi encoding, measuring, wrapping
//! and truncation.
//!
//! Everything the PDF renderer draws goes through [`encode`] first, so any
//! Rust `&str` becomes bytes the reader can show: characters that exist in
//! WinAnsiEncoding (Latin-1 letters such as é, ñ, ü, plus € – — “ ” ‘ ’ …
//! and friends) map to their code, Latin Extended-A letters fold to their
//! base letter (ł → l, č → c), combining marks and zero-width characters are
//! dropped, and anything else becomes `?`.

use crate::metrics;

/// The two faces the renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Font {
    Regular,
    Bold,
}

impl Font {
    /// Resource name of the font inside every page's resource dictionary.
    pub(crate) fn resource_name(self) -> &'static [u8] {
        match self {
            Font::Regular => b"F1",
            Font::Bold => b"F2",
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &metrics::HELVETICA,
            Font::Bold => &metrics::HELVETICA_BOLD,
        }
    }

    /// Advance width of one WinAnsi code, in 1/1000 em.
    fn advance(self, code: u8) -> u16 {
        if code < 32 {
            return 0;
        }
        self.widths()[usize::from(code - 32)]
    }
}

/// WinAnsi code of the ellipsis character `…`.
pub(crate) const ELLIPSIS: u8 = 0x85;

/// Unicode code points for WinAnsi codes 0x80..=0x9F (0 where undefined).
const WIN_ANSI_HIGH: [u32; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, //
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0, //
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, //
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// Base letters for U+0100..=U+017F (Latin Extended-A). Letters that WinAnsi
/// has directly (Œ œ Š š Ÿ Ž ž) are looked up before this table is used.
const LATIN_EXT_A_BASE: &[u8; 128] = b"AaAaAaCcCcCcCcDd\
DdEeEeEeEeEeGgGg\
GgGgHhHhIiIiIiIi\
IiIiJjKkkLlLlLlL\
lLlNnNnNnnNnOoOo\
OoOoRrRrRrSsSsSs\
SsTtTtTtUuUuUuUu\
UuUuWwYyYZzZzZzs";

/// What one character becomes in WinAnsi.
enum Mapped {
    Byte(u8),
    Drop,
}

fn map_char(c: char) -> Mapped {
    let cp = u32::from(c);
    match cp {
        0x20..=0x7E => Mapped::Byte(cp as u8),
        // Whitespace controls become a plain space; other controls vanish.
        0x09 | 0x0A | 0x0D => Mapped::Byte(b' '),
        0x00..=0x1F | 0x7F..=0x9F => Mapped::Drop,
        // No-break space and soft hyphen: WinAnsi has them, but readers
        // render them inconsistently, so use the plain forms.
        0xA0 => Mapped::Byte(b' '),
        0xAD => Mapped::Byte(b'-'),
        0xA1..=0xFF => Mapped::Byte(cp as u8),
        _ => {
            if let Some(i) = WIN_ANSI_HIGH.iter().position(|&u| u == cp) {
                return Mapped::Byte(0x80 + i as u8);
            }
            match cp {
                0x0100..=0x017F => Mapped::Byte(LATIN_EXT_A_BASE[(cp - 0x0100) as usize]),
                // Combining diacritical marks, zero-width characters, BOM.
                0x0300..=0x036F | 0x200B..=0x200F | 0x2060 | 0xFEFF => Mapped::Drop,
                // Other dashes and the minus sign.
                0x2010..=0x2012 | 0x2212 => Mapped::Byte(b'-'),
                0x2015 => Mapped::Byte(0x97),
                // Assorted spaces.
                0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => Mapped::Byte(b' '),
                0x2032 => Mapped::Byte(b'\''),
                0x2033 => Mapped::Byte(b'"'),
                0x2044 | 0x2215 => Mapped::Byte(b'/'),
                _ => Mapped::Byte(b'?'),
            }
        }
    }
}

/// Encodes text as WinAnsi bytes (see the module docs for the mapping).
pub(crate) fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if let Mapped::Byte(b) = map_char(c) {
            out.push(b);
        }
    }
    out
}

/// Width of WinAnsi-encoded text in points.
pub(crate) fn width(bytes: &[u8], font: Font, size: f32) -> f32 {
    let units: u32 = bytes.iter().map(|&b| u32::from(font.advance(b))).sum();
    units as f32 * size / 1000.0
}

/// Cuts encoded text so it fits `max` points, ending it with `…` when cut.
pub(crate) fn truncate(bytes: &[u8], font: Font, size: f32, max: f32) -> Vec<u8> {
    if width(bytes, font, size) <= max {
        return bytes.to_vec();
    }
    let budget = max - width(&[ELLIPSIS], font, size);
    if budget <= 0.0 {
        return Vec::new();
    }
    let mut used = 0.0;
    let mut end = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let w = f32::from(font.advance(b)) * size / 1000.0;
        if used + w > budget {
            break;
        }
        used += w;
        end = i + 1;
    }
    // Do not leave a dangling space before the ellipsis.
    while end > 0 && bytes[end - 1] == b' ' {
        end -= 1;
    }
    let mut out = bytes[..end].to_vec();
    out.push(ELLIPSIS);
    out
}

/// Wraps text into lines no wider than `max` points.
///
/// Explicit line breaks (`\n`, `\r\n`) are kept, an empty input line gives an
/// empty output line, and a word longer than a whole line is split between
/// characters. Always returns at least one line.
pub(crate) fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for raw_line in text.split('\n') {
        let encoded = encode(raw_line.trim_end_matches('\r'));
        wrap_encoded(&encoded, font, size, max, &mut lines);
    }
    if lines.is_empty() {
        lines.push(Vec::new());
    }
    lines
}

fn wrap_encoded(bytes: &[u8], font: Font, size: f32, max: f32, lines: &mut Vec<Vec<u8>>) {
    let space = width(b" ", font, size);
    let mut line: Vec<u8> = Vec::new();
    let mut line_w = 0.0;
    for word in bytes.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let word_w = width(word, font, size);
        let needed = if line.is_empty() {
            word_w
        } else {
            line_w + space + word_w
        };
        if needed <= max {
            if !line.is_empty() {
                line.push(b' ');
            }
            line.extend_from_slice(word);
            line_w = needed;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        }
        if word_w <= max {
            line.extend_from_slice(word);
            line_w = word_w;
            continue;
        }
        // A single word wider than the line: split it between characters.
        for &b in word {
            let w = f32::from(font.advance(b)) * size / 1000.0;
            if !line.is_empty() && line_w + w > max {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            line.push(b);
            line_w += w;
        }
    }
    lines.push(line);
}

/// Wraps like [`wrap`] but keeps at most `max_lines`, ending the last kept
/// line with `…` when something was cut.
pub(crate) fn wrap_limited(
    text: &str,
    font: Font,
    size: f32,
    max: f32,
    max_lines: usize,
) -> Vec<Vec<u8>> {
    let mut lines = wrap(text, font, size, max);
    let max_lines = max_lines.max(1);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("at least one line");
        let mut with_mark = last.clone();
        with_mark.push(ELLIPSIS);
        // Force the ellipsis even if the line would have fit.
        *last = if width(&with_mark, font, size) <= max {
            with_mark
        } else {
            truncate(&with_mark, font, size, max - 0.01)
        };
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_passes_through() {
        assert_eq!(encode("Hello (World) 100%"), b"Hello (World) 100%".to_vec());
    }

    #[test]
    fn latin1_and_windows_specials_map_to_win_ansi() {
        assert_eq!(encode("é"), vec![0xE9]);
        assert_eq!(encode("Ñandú"), vec![0xD1, b'a', b'n', b'd', 0xFA]);
        assert_eq!(
            encode("€…–—“”‘’•™"),
            vec![0x80, 0x85, 0x96, 0x97, 0x93, 0x94, 0x91, 0x92, 0x95, 0x99]
        );
        assert_eq!(
            encode("ŠšŽžŒœŸ"),
            vec![0x8A, 0x9A, 0x8E, 0x9E, 0x8C, 0x9C, 0x9F]
        );
    }

    #[test]
    fn others_fold_drop_or_become_question_marks() {
        // ł and ř fold to l and r; á is in WinAnsi.
        assert_eq!(encode("Łukasz Dvořák"), b"Lukasz Dvor\xe1k".to_vec());
        // "e" followed by a combining acute accent.
        assert_eq!(encode("e\u{301}"), b"e".to_vec());
        assert_eq!(encode("a\u{200B}b\u{FEFF}"), b"ab".to_vec());
        assert_eq!(encode("日本 🚕"), b"?? ?".to_vec());
        assert_eq!(encode("a\tb\nc\u{7}"), b"a b c".to_vec());
        assert_eq!(encode("−5"), b"-5".to_vec());
    }

    #[test]
    fn widths_match_the_afm_tables() {
        // Helvetica: "a" = 556, "i" = 222; Helvetica-Bold "W" = 944.
        assert!((width(b"ai", Font::Regular, 10.0) - 7.78).abs() < 1e-4);
        assert!((width(b"W", Font::Bold, 1000.0) - 944.0).abs() < 1e-3);
        assert!((width(&[ELLIPSIS], Font::Regular, 1000.0) - 1000.0).abs() < 1e-3);
        assert!((width(&encode("é"), Font::Regular, 1000.0) - 556.0).abs() < 1e-3);
    }

    #[test]
    fn truncate_fits_and_marks_the_cut() {
        let text = encode("A rather long driver name that will not fit");
        let cut = truncate(&text, Font::Regular, 10.0, 60.0);
        assert!(width(&cut, Font::Regular, 10.0) <= 60.0);
        assert_eq!(*cut.last().unwrap(), ELLIPSIS);
        assert_eq!(
            truncate(b"short", Font::Regular, 10.0, 60.0),
            b"short".to_vec()
        );
        assert!(truncate(b"anything", Font::Regular, 10.0, 2.0).is_empty());
    }

    #[test]
    fn wrap_respects_width_newlines_and_long_words() {
        let lines = wrap(
            "one two three four five six seven",
            Font::Regular,
            10.0,
            60.0,
        );
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(width(line, Font::Regular, 10.0) <= 60.0);
        }
        let lines = wrap("first\n\nthird", Font::Regular, 10.0, 500.0);
        assert_eq!(
            lines,
            vec![b"first".to_vec(), Vec::new(), b"third".to_vec()]
        );
        let lines = wrap(&"x".repeat(100), Font::Regular, 10.0, 50.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, Font::Regular, 10.0) <= 50.0));
        assert_eq!(wrap("", Font::Regular, 10.0, 50.0), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn wrap_limited_marks_cut_text() {
        let lines = wrap_limited("aa bb cc dd ee ff gg", Font::Regular, 10.0, 20.0, 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(*lines[1].last().unwrap(), ELLIPSIS);
        assert!(lines.iter().all(|l| width(l, Font::Regular, 10.0) <= 20.0));
    }
}
