//! Text for the embedded fonts: turning a `&str` into glyphs, measuring,
//! wrapping and (for page furniture only) truncation.
//!
//! Everything the PDF renderer draws goes through [`shape`] first. Text is
//! brought to Unicode normalization form C (so "e" + combining acute prints
//! as the precomposed "é" the font has), tabs and line breaks become spaces,
//! other control and zero-width characters are dropped, and a character the
//! fonts lack is drawn as the visible replacement mark U+FFFD (and logged
//! once), never as a silent `?`.
//!
//! There is no shaping beyond one glyph per character: the scripts the fleet
//! writes in (Latin, Greek, Cyrillic) need none.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

pub(crate) use crate::fonts::Font;
use crate::fonts::{self, Glyph};

/// One drawn character: the glyph and the character it stands for (what a
/// text extractor gives back for it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shaped {
    pub(crate) glyph: Glyph,
    pub(crate) ch: char,
}

/// A line of drawn characters.
pub(crate) type Line = Vec<Shaped>;

/// Characters that never print and take no room.
fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F..=0x9F | 0xAD | 0x200B..=0x200F | 0x2060 | 0xFEFF
    )
}

/// Turns text into glyphs of `font` (see the module docs).
pub(crate) fn shape(text: &str, font: Font) -> Line {
    let face = font.face();
    let normalized: Cow<str> = if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfc().collect())
    };
    let mut out = Vec::with_capacity(normalized.len());
    for c in normalized.chars() {
        let c = match c {
            '\t' | '\n' | '\r' => ' ',
            c if is_invisible(c) => continue,
            c => c,
        };
        match face.glyph(c) {
            Some(glyph) => out.push(Shaped { glyph, ch: c }),
            None => {
                fonts::report_missing(c);
                out.push(Shaped {
                    glyph: face.replacement,
                    ch: '\u{FFFD}',
                });
            }
        }
    }
    out
}

/// Width of a line in points at `size`.
pub(crate) fn width(line: &[Shaped], size: f32) -> f32 {
    line.iter().map(|s| s.glyph.advance).sum::<f32>() * size / 1000.0
}

/// Cuts a line so it fits `max` points, ending it with `…` when cut. Only for
/// page furniture (the running header repeats a title printed in full on the
/// first page); content is wrapped, never cut.
pub(crate) fn truncate(line: &[Shaped], font: Font, size: f32, max: f32) -> Line {
    if width(line, size) <= max {
        return line.to_vec();
    }
    let ellipsis = shape("…", font);
    let budget = max - width(&ellipsis, size);
    if budget <= 0.0 {
        return Vec::new();
    }
    let mut used = 0.0;
    let mut end = 0;
    for (i, s) in line.iter().enumerate() {
        let w = s.glyph.advance * size / 1000.0;
        if used + w > budget {
            break;
        }
        used += w;
        end = i + 1;
    }
    // Do not leave a dangling space before the ellipsis.
    while end > 0 && line[end - 1].ch == ' ' {
        end -= 1;
    }
    let mut out = line[..end].to_vec();
    out.extend(ellipsis);
    out
}

/// Wraps text into lines no wider than `max` points.
///
/// Explicit line breaks (`\n`, `\r\n`) are kept, an empty input line gives an
/// empty output line, and a word longer than a whole line is broken after a
/// `-`, `/` or `_` where one fits, else between characters. Always returns at
/// least one line.
pub(crate) fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<Line> {
    let mut lines = Vec::new();
    for raw_line in text.split('\n') {
        let shaped = shape(raw_line.trim_end_matches('\r'), font);
        let untrimmed = shaped.first().is_some_and(|s| s.ch == ' ')
            || shaped.last().is_some_and(|s| s.ch == ' ');
        if !untrimmed && width(&shaped, size) <= max {
            // The common case: one line that fits, kept without copying.
            lines.push(shaped);
        } else {
            wrap_shaped(&shaped, size, max, &mut lines);
        }
    }
    if lines.is_empty() {
        lines.push(Vec::new());
    }
    lines
}

fn wrap_shaped(shaped: &[Shaped], size: f32, max: f32, lines: &mut Vec<Line>) {
    if width(shaped, size) <= max {
        lines.push(trim_spaces(shaped).to_vec());
        return;
    }
    let space_glyph = shaped.iter().find(|s| s.ch == ' ').copied();
    let space = space_glyph.map_or(0.0, |s| s.glyph.advance * size / 1000.0);
    let mut line: Line = Vec::new();
    let mut line_w = 0.0;
    for word in shaped.split(|s| s.ch == ' ').filter(|w| !w.is_empty()) {
        let word_w = width(word, size);
        let needed = if line.is_empty() {
            word_w
        } else {
            line_w + space + word_w
        };
        if needed <= max {
            if let (false, Some(sp)) = (line.is_empty(), space_glyph) {
                line.push(sp);
            }
            line.extend_from_slice(word);
            line_w = needed;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if word_w <= max {
            line.extend_from_slice(word);
            line_w = word_w;
            continue;
        }
        // A single word wider than the line: break it into pieces.
        let mut rest = word;
        loop {
            let cut = break_point(rest, size, max);
            if cut >= rest.len() {
                break;
            }
            lines.push(rest[..cut].to_vec());
            rest = &rest[cut..];
        }
        line.extend_from_slice(rest);
        line_w = width(rest, size);
    }
    lines.push(line);
}

/// Where to break a word too wide for `max`: after the last `-`, `/` or `_`
/// that fits, else after the last character that fits (at least one
/// character, and never before a zero-width combining mark). The whole
/// length when it all fits.
fn break_point(word: &[Shaped], size: f32, max: f32) -> usize {
    let mut used = 0.0;
    let mut fits = 0;
    let mut after_mark = None;
    for (i, s) in word.iter().enumerate() {
        let w = s.glyph.advance * size / 1000.0;
        if i > 0 && used + w > max {
            break;
        }
        if i + 1 == word.len() {
            return word.len();
        }
        used += w;
        fits = i + 1;
        if matches!(s.ch, '-' | '/' | '_') && i + 1 < word.len() {
            after_mark = Some(i + 1);
        }
    }
    let mut cut = after_mark.unwrap_or(fits).max(1);
    while cut < word.len() && word[cut].glyph.advance == 0.0 {
        cut += 1;
    }
    cut
}

fn trim_spaces(line: &[Shaped]) -> &[Shaped] {
    let start = line.iter().position(|s| s.ch != ' ').unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|s| s.ch != ' ')
        .map_or(start, |i| i + 1);
    &line[start..end]
}

/// Wraps like [`wrap`] but keeps at most `max_lines`, ending the last kept
/// line with `…` when something was cut. Only for headings and titles, whose
/// room is bounded; values are wrapped in full.
pub(crate) fn wrap_limited(
    text: &str,
    font: Font,
    size: f32,
    max: f32,
    max_lines: usize,
) -> Vec<Line> {
    let mut lines = wrap(text, font, size, max);
    let max_lines = max_lines.max(1);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("at least one line");
        let mut with_mark = last.clone();
        with_mark.extend(shape("…", font));
        // Force the ellipsis even if the line would have fit.
        *last = if width(&with_mark, size) <= max {
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

    fn chars(line: &[Shaped]) -> String {
        line.iter().map(|s| s.ch).collect()
    }

    #[test]
    fn names_in_every_script_keep_their_letters() {
        for name in [
            "Zoë Łukasz-Müller",
            "Đorđe",
            "Оксана",
            "José Nuñez",
            "№42 €5 – ’",
        ] {
            let line = shape(name, Font::Regular);
            assert_eq!(chars(&line), name);
            assert!(line.iter().all(|s| s.glyph.id != 0), "{name}");
        }
    }

    #[test]
    fn decomposed_accents_are_composed() {
        let line = shape("Zoe\u{308}", Font::Regular);
        assert_eq!(chars(&line), "Zoë");
    }

    #[test]
    fn controls_and_zero_width_characters_vanish_and_breaks_become_spaces() {
        assert_eq!(
            chars(&shape("a\u{200B}b\u{FEFF}c\u{7}", Font::Regular)),
            "abc"
        );
        assert_eq!(chars(&shape("a\tb\nc", Font::Regular)), "a b c");
    }

    #[test]
    fn a_character_the_font_lacks_is_a_visible_replacement() {
        let line = shape("陈 Wei", Font::Bold);
        assert_eq!(chars(&line), "\u{FFFD} Wei");
        assert_eq!(line[0].glyph, Font::Bold.face().replacement);
        assert!(line[0].glyph.advance > 0.0);
    }

    #[test]
    fn widths_scale_with_the_size() {
        let line = shape("Müller", Font::Regular);
        let w10 = width(&line, 10.0);
        assert!(w10 > 20.0 && w10 < 50.0, "{w10}");
        assert!((width(&line, 20.0) - 2.0 * w10).abs() < 1e-3);
        assert!(width(&shape("W", Font::Bold), 10.0) > width(&shape("i", Font::Bold), 10.0));
    }

    #[test]
    fn truncate_fits_and_marks_the_cut() {
        let text = shape("A rather long driver name that will not fit", Font::Regular);
        let cut = truncate(&text, Font::Regular, 10.0, 60.0);
        assert!(width(&cut, 10.0) <= 60.0);
        assert_eq!(cut.last().unwrap().ch, '…');
        let short = shape("short", Font::Regular);
        assert_eq!(truncate(&short, Font::Regular, 10.0, 60.0), short);
        assert!(truncate(&text, Font::Regular, 10.0, 2.0).is_empty());
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
            assert!(width(line, 10.0) <= 60.0);
        }
        let joined: Vec<String> = lines.iter().map(|l| chars(l)).collect();
        assert_eq!(joined.join(" "), "one two three four five six seven");

        let lines = wrap("first\n\nthird", Font::Regular, 10.0, 500.0);
        let texts: Vec<String> = lines.iter().map(|l| chars(l)).collect();
        assert_eq!(texts, ["first", "", "third"]);

        let lines = wrap(&"x".repeat(100), Font::Regular, 10.0, 50.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 10.0) <= 50.0));
        assert_eq!(lines.iter().map(|l| l.len()).sum::<usize>(), 100);
        assert_eq!(wrap("", Font::Regular, 10.0, 50.0), vec![Line::new()]);
    }

    #[test]
    fn a_long_invoice_number_breaks_after_a_dash() {
        let lines = wrap("INV-2026-WORKSHOP-000123", Font::Regular, 10.0, 80.0);
        let texts: Vec<String> = lines.iter().map(|l| chars(l)).collect();
        assert!(texts.len() > 1);
        assert!(texts[0].ends_with('-'), "{texts:?}");
        assert_eq!(texts.concat(), "INV-2026-WORKSHOP-000123");
    }

    #[test]
    fn wrap_limited_marks_cut_text() {
        let lines = wrap_limited("aa bb cc dd ee ff gg", Font::Regular, 10.0, 20.0, 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].last().unwrap().ch, '…');
        assert!(lines.iter().all(|l| width(l, 10.0) <= 20.0));
    }
}
