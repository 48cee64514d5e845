//! The embedded font family: DejaVu Sans Condensed, regular and bold.
//!
//! The fonts come from the `dejavu` crate, which ships the unmodified DejaVu
//! 2.37 files together with their licence (Bitstream Vera licence, DejaVu
//! changes in the public domain): nothing is looked up on the system at run
//! time. DejaVu Sans covers Latin, Latin Extended, Greek, Cyrillic and the
//! usual symbols (№ € – ’ …), so every name a New York fleet meets prints as
//! written. The condensed cut sets about as much text per line as Helvetica
//! did, so table columns keep their IDs on one line.
//!
//! Each face is parsed once per process. Glyph ids and advance widths of the
//! first 0x600 code points (Latin through Cyrillic and Armenian) are read into
//! a table up front, because every cell of a 100,000-row export goes through
//! [`Face::glyph`]; the rest are looked up in the font's `cmap` on demand.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

/// One face of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Font {
    Regular,
    Bold,
}

impl Font {
    pub(crate) const ALL: [Font; 2] = [Font::Regular, Font::Bold];

    /// Resource name of the font inside every page's resource dictionary.
    pub(crate) fn resource_name(self) -> &'static [u8] {
        match self {
            Font::Regular => b"F1",
            Font::Bold => b"F2",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Font::Regular => 0,
            Font::Bold => 1,
        }
    }

    pub(crate) fn face(self) -> &'static Face {
        &FACES[self.index()]
    }
}

/// A glyph of a face: its id in the full font and its advance width in
/// 1/1000 em (PDF text-space units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Glyph {
    pub(crate) id: u16,
    pub(crate) advance: f32,
}

/// Code points below this are looked up in a table built once.
const TABLE_END: u32 = 0x600;

/// A parsed face with what the PDF writer needs about it.
pub(crate) struct Face {
    pub(crate) data: &'static [u8],
    /// PostScript name, used for the embedded subset's `/BaseFont`.
    pub(crate) postscript_name: &'static str,
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
    /// Glyphs of code points `0..TABLE_END`; `None` where the font has none.
    table: Vec<Option<Glyph>>,
    /// What is drawn for a character the font lacks: U+FFFD, a visible mark.
    pub(crate) replacement: Glyph,
    pub(crate) ascent: f32,
    pub(crate) descent: f32,
    pub(crate) cap_height: f32,
    pub(crate) bbox: [f32; 4],
    pub(crate) italic_angle: f32,
    pub(crate) bold: bool,
}

static FACES: LazyLock<[Face; 2]> = LazyLock::new(|| {
    [
        Face::load(
            dejavu::sans_condensed::regular(),
            "DejaVuSansCondensed",
            false,
        ),
        Face::load(
            dejavu::sans_condensed::bold(),
            "DejaVuSansCondensed-Bold",
            true,
        ),
    ]
});

impl Face {
    fn load(data: &'static [u8], postscript_name: &'static str, bold: bool) -> Face {
        // The bytes are compiled in from a known release of the font, so a
        // parse failure is a build defect, not a run-time condition.
        let face = ttf_parser::Face::parse(data, 0).expect("the embedded DejaVu font parses");
        let units_per_em = f32::from(face.units_per_em());
        let scale = |v: i16| f32::from(v) * 1000.0 / units_per_em;
        let lookup = |c: char| -> Option<Glyph> {
            let id = face.glyph_index(c)?;
            let advance = face.glyph_hor_advance(id).unwrap_or(0);
            Some(Glyph {
                id: id.0,
                advance: f32::from(advance) * 1000.0 / units_per_em,
            })
        };
        let table = (0..TABLE_END)
            .map(|cp| char::from_u32(cp).and_then(lookup))
            .collect();
        let replacement = lookup('\u{FFFD}').or_else(|| lookup('?')).unwrap_or(Glyph {
            id: 0,
            advance: 600.0,
        });
        let bb = face.global_bounding_box();
        // DejaVu's OS/2 table predates the cap-height field: measure the "H".
        let cap_height = face.capital_height().unwrap_or_else(|| {
            face.glyph_index('H')
                .and_then(|h| face.glyph_bounding_box(h))
                .map_or(face.ascender(), |b| b.y_max)
        });
        Face {
            data,
            postscript_name,
            units_per_em,
            table,
            replacement,
            ascent: scale(face.ascender()),
            descent: scale(face.descender()),
            cap_height: scale(cap_height),
            bbox: [
                scale(bb.x_min),
                scale(bb.y_min),
                scale(bb.x_max),
                scale(bb.y_max),
            ],
            italic_angle: face.italic_angle(),
            bold,
            face,
        }
    }

    /// The glyph for a character, or `None` when the font has none.
    pub(crate) fn glyph(&self, c: char) -> Option<Glyph> {
        let cp = u32::from(c);
        if cp < TABLE_END {
            return self.table[cp as usize];
        }
        let id = self.face.glyph_index(c)?;
        let advance = self.face.glyph_hor_advance(id).unwrap_or(0);
        Some(Glyph {
            id: id.0,
            advance: f32::from(advance) * 1000.0 / self.units_per_em,
        })
    }

    /// Advance width of a glyph id of this face, in 1/1000 em.
    pub(crate) fn advance_of(&self, id: u16) -> f32 {
        let advance = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(id))
            .unwrap_or(0);
        f32::from(advance) * 1000.0 / self.units_per_em
    }
}

/// Characters already reported as missing, so each is logged once per
/// process rather than once per cell of an export.
static REPORTED_MISSING: LazyLock<Mutex<HashSet<char>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

/// Logs (once per character) that the fonts lack a character and that it is
/// printed as the visible replacement mark.
pub(crate) fn report_missing(c: char) {
    let mut seen = REPORTED_MISSING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if seen.insert(c) {
        tracing::warn!(
            character = %c,
            code_point = format!("U+{:04X}", u32::from(c)),
            "the PDF font has no glyph for this character; it is printed as \u{FFFD}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_covers_the_scripts_of_the_fleet() {
        for font in Font::ALL {
            let face = font.face();
            for c in "Zoë Łukasz-Müller Đorđe Оксана José Nuñez Αλέξανδρος №€–’…".chars()
            {
                assert!(face.glyph(c).is_some(), "{font:?} lacks {c}");
            }
            assert_ne!(face.replacement.id, 0, "U+FFFD is in the font");
            assert!(face.cap_height > 600.0 && face.cap_height < 800.0);
        }
    }

    #[test]
    fn characters_outside_the_family_have_no_glyph() {
        assert!(Font::Regular.face().glyph('陈').is_none());
        assert!(Font::Regular.face().glyph('\u{1F695}').is_none());
    }

    #[test]
    fn table_and_cmap_lookups_agree() {
        let face = Font::Bold.face();
        let a = face.glyph('A').unwrap();
        assert_eq!(a.advance, face.advance_of(a.id));
        let euro = face.glyph('€').unwrap();
        assert_eq!(euro.advance, face.advance_of(euro.id));
    }
}
