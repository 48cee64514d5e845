//! Advance widths of the two standard Type 1 fonts this crate draws with.
//!
//! Values are the glyph advance widths from Adobe's Core 14 AFM files
//! (`Helvetica.afm`, `Helvetica-Bold.afm`, version 003.001), in units of
//! 1/1000 em, indexed by WinAnsiEncoding code minus 32, i.e. codes 32..=255.
//! Codes 32..=126 are printable ASCII (note 39 is `quotesingle` and 96 is
//! `grave` in WinAnsi). Codes that WinAnsi leaves undefined (129, 141, 143,
//! 144, 157) hold 0; the encoder never produces them.
//!
//! Every conforming PDF reader ships these two fonts (or metric-compatible
//! clones such as Nimbus Sans), so no font file is embedded or needed at run
//! time, and text measured with these tables lands where the reader draws it.

/// `Helvetica` advance widths for WinAnsi codes 32..=255.
pub(crate) const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667,
    191, // 32..=39: space exclam quotedbl numbersign dollar percent ampersand quotesingle
    333, 333, 389, 584, 278, 333, 278,
    278, // 40..=47: parenleft parenright asterisk plus comma hyphen period slash
    556, 556, 556, 556, 556, 556, 556, 556, // 48..=55: zero one two three four five six seven
    556, 556, 278, 278, 584, 584, 584,
    556, // 56..=63: eight nine colon semicolon less equal greater question
    1015, 667, 667, 722, 722, 667, 611, 778, // 64..=71: at A B C D E F G
    722, 278, 500, 667, 556, 833, 722, 778, // 72..=79: H I J K L M N O
    667, 778, 722, 667, 611, 722, 667, 944, // 80..=87: P Q R S T U V W
    667, 667, 611, 278, 278, 278, 469,
    556, // 88..=95: X Y Z bracketleft backslash bracketright asciicircum underscore
    333, 556, 556, 500, 556, 556, 278, 556, // 96..=103: grave a b c d e f g
    556, 222, 222, 500, 222, 833, 556, 556, // 104..=111: h i j k l m n o
    556, 556, 333, 500, 278, 556, 500, 722, // 112..=119: p q r s t u v w
    500, 500, 500, 334, 260, 334, 584,
    0, // 120..=127: x y z braceleft bar braceright asciitilde .notdef
    556, 0, 222, 556, 333, 1000, 556,
    556, // 128..=135: Euro .notdef quotesinglbase florin quotedblbase ellipsis dagger daggerdbl
    333, 1000, 667, 333, 1000, 0, 611,
    0, // 136..=143: circumflex perthousand Scaron guilsinglleft OE .notdef Zcaron .notdef
    0, 222, 222, 333, 333, 350, 556,
    1000, // 144..=151: .notdef quoteleft quoteright quotedblleft quotedblright bullet endash emdash
    333, 1000, 500, 333, 944, 0, 500,
    667, // 152..=159: tilde trademark scaron guilsinglright oe .notdef zcaron Ydieresis
    278, 333, 556, 556, 556, 556, 260,
    556, // 160..=167: space exclamdown cent sterling currency yen brokenbar section
    333, 737, 370, 556, 584, 333, 737,
    333, // 168..=175: dieresis copyright ordfeminine guillemotleft logicalnot hyphen registered macron
    400, 584, 333, 333, 333, 578, 537,
    278, // 176..=183: degree plusminus twosuperior threesuperior acute mu paragraph periodcentered
    333, 333, 365, 556, 834, 834, 834,
    611, // 184..=191: cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown
    667, 667, 667, 667, 667, 667, 1000,
    722, // 192..=199: Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla
    667, 667, 667, 667, 278, 278, 278,
    278, // 200..=207: Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex Idieresis
    722, 722, 778, 778, 778, 778, 778,
    584, // 208..=215: Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply
    778, 722, 722, 722, 722, 667, 667,
    611, // 216..=223: Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls
    556, 556, 556, 556, 556, 556, 889,
    500, // 224..=231: agrave aacute acircumflex atilde adieresis aring ae ccedilla
    556, 556, 556, 556, 278, 278, 278,
    278, // 232..=239: egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis
    556, 556, 556, 556, 556, 556, 556,
    584, // 240..=247: eth ntilde ograve oacute ocircumflex otilde odieresis divide
    611, 556, 556, 556, 556, 500, 556,
    500, // 248..=255: oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis
];

/// `Helvetica-Bold` advance widths for WinAnsi codes 32..=255.
pub(crate) const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722,
    238, // 32..=39: space exclam quotedbl numbersign dollar percent ampersand quotesingle
    333, 333, 389, 584, 278, 333, 278,
    278, // 40..=47: parenleft parenright asterisk plus comma hyphen period slash
    556, 556, 556, 556, 556, 556, 556, 556, // 48..=55: zero one two three four five six seven
    556, 556, 333, 333, 584, 584, 584,
    611, // 56..=63: eight nine colon semicolon less equal greater question
    975, 722, 722, 722, 722, 667, 611, 778, // 64..=71: at A B C D E F G
    722, 278, 556, 722, 611, 833, 722, 778, // 72..=79: H I J K L M N O
    667, 778, 722, 667, 611, 722, 667, 944, // 80..=87: P Q R S T U V W
    667, 667, 611, 333, 278, 333, 584,
    556, // 88..=95: X Y Z bracketleft backslash bracketright asciicircum underscore
    333, 556, 611, 556, 611, 556, 333, 611, // 96..=103: grave a b c d e f g
    611, 278, 278, 556, 278, 889, 611, 611, // 104..=111: h i j k l m n o
    611, 611, 389, 556, 333, 611, 556, 778, // 112..=119: p q r s t u v w
    556, 556, 500, 389, 280, 389, 584,
    0, // 120..=127: x y z braceleft bar braceright asciitilde .notdef
    556, 0, 278, 556, 500, 1000, 556,
    556, // 128..=135: Euro .notdef quotesinglbase florin quotedblbase ellipsis dagger daggerdbl
    333, 1000, 667, 333, 1000, 0, 611,
    0, // 136..=143: circumflex perthousand Scaron guilsinglleft OE .notdef Zcaron .notdef
    0, 278, 278, 500, 500, 350, 556,
    1000, // 144..=151: .notdef quoteleft quoteright quotedblleft quotedblright bullet endash emdash
    333, 1000, 556, 333, 944, 0, 500,
    667, // 152..=159: tilde trademark scaron guilsinglright oe .notdef zcaron Ydieresis
    278, 333, 556, 556, 556, 556, 280,
    556, // 160..=167: space exclamdown cent sterling currency yen brokenbar section
    333, 737, 370, 556, 584, 333, 737,
    333, // 168..=175: dieresis copyright ordfeminine guillemotleft logicalnot hyphen registered macron
    400, 584, 333, 333, 333, 611, 556,
    278, // 176..=183: degree plusminus twosuperior threesuperior acute mu paragraph periodcentered
    333, 333, 365, 556, 834, 834, 834,
    611, // 184..=191: cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown
    722, 722, 722, 722, 722, 722, 1000,
    722, // 192..=199: Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla
    667, 667, 667, 667, 278, 278, 278,
    278, // 200..=207: Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex Idieresis
    722, 722, 778, 778, 778, 778, 778,
    584, // 208..=215: Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply
    778, 722, 722, 722, 722, 667, 667,
    611, // 216..=223: Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls
    556, 556, 556, 556, 556, 556, 889,
    556, // 224..=231: agrave aacute acircumflex atilde adieresis aring ae ccedilla
    556, 556, 556, 556, 278, 278, 278,
    278, // 232..=239: egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis
    611, 611, 611, 611, 611, 611, 611,
    584, // 240..=247: eth ntilde ograve oacute ocircumflex otilde odieresis divide
    611, 611, 611, 611, 611, 556, 611,
    556, // 248..=255: oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis
];
