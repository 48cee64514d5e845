//! PDF documents: a small block layout engine on top of `pdf-writer`.
//!
//! # Why `pdf-writer` (and not a higher-level engine)
//!
//! `pdf-writer` (the PDF serializer behind Typst) is a small, well-kept crate
//! with no C code that writes exactly the objects it is told to. Fonts are the
//! embedded DejaVu family ([`crate::fonts`]), measured with `ttf-parser` and
//! cut down to the glyphs a document uses with `subsetter` (both also from the
//! Typst ecosystem); [`crate::embed`] writes them as Type 0 fonts with a
//! Unicode map. `krilla`, the higher-level engine by the same authors, was
//! weighed against this and not taken: it does the font part for us but not
//! the layout (tables, wrapping, pagination stay ours either way), adds a
//! shaping engine the fleet's scripts do not need, and roughly doubles the
//! crate's dependency tree. See the README's "PDF documents" section for the
//! figures.
//!
//! Page content streams and font programs are compressed with `flate2`,
//! which the XLSX writer's zip support already builds.
//!
//! # Layout
//!
//! US Letter, portrait or landscape, 42 pt side margins. The first page
//! carries the full header (title, subtitle lines, a rule); later pages a one
//! line running header. Blocks flow top to bottom and break onto new pages
//! between table rows, key/value rows, summary rows and paragraph lines; a
//! heading is never left alone at the bottom of a page, and a table's header
//! row is repeated at the top of every page it continues onto. Every page
//! ends with a footer: the generated-at text on the left and "Page N of M" on
//! the right.

use std::borrow::Cow;
use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::embed::Embedder;
use crate::text::{self, Font, Line, Shaped};
use crate::values::MoneyText;
use crate::{Align, CellKind, Column};

/// A PDF document: a header and blocks rendered top to bottom.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Large title on the first page; also in the running header of later
    /// pages and in the file's metadata.
    pub title: String,
    /// Lines under the title on the first page (period, driver, filters…).
    /// The first one also appears in the running header of later pages.
    pub subtitle: Vec<String>,
    /// Shown in every page's footer as "Generated {generated_at}" (left out
    /// when empty). The caller formats it; the crate reads no clock.
    pub generated_at: String,
    /// Landscape US Letter instead of portrait, for wide tables.
    pub landscape: bool,
    /// Content, top to bottom.
    pub blocks: Vec<Block>,
}

impl Document {
    /// An empty portrait document with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Document {
            title: title.into(),
            ..Document::default()
        }
    }
}

/// One piece of a [`Document`].
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading with a thin rule under it. Kept on the same page as
    /// the start of what follows.
    Heading(String),
    /// Label/value pairs in a grid of `columns` (clamped to 1..=3) columns,
    /// filled row by row: label on the left in grey, value right-aligned in
    /// bold, long text wrapped. One column gives a receipt-style list.
    KeyValues {
        title: Option<String>,
        pairs: Vec<(String, String)>,
        columns: u8,
    },
    /// Label/value items with large bold values in a bordered box, like a
    /// payslip's totals; up to four items per row.
    SummaryBox { items: Vec<(String, String)> },
    /// A table with a repeated header row, zebra shading, cells typed by
    /// column kind (money shown as `$1,234.50`), text cut with `…` to fit,
    /// and an optional bold total row.
    Table {
        columns: Vec<Column>,
        rows: Vec<Vec<String>>,
        total_row: Option<Vec<String>>,
    },
    /// Running text, wrapped to the page width; `\n` starts a new line.
    Paragraph(String),
    /// A horizontal bar chart: one row per bar (its label, a bar as long as its value
    /// against the largest, the value's text at its end). Negative values are drawn
    /// from the same axis in a second colour. The table that follows carries the figures.
    Bars { bars: Vec<Bar> },
}

/// One bar of [`Block::Bars`].
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// The bar's length (any unit; bars are scaled to the largest magnitude).
    pub value: f64,
    /// What is printed at the bar's end ("$1,234.50").
    pub text: String,
}

/// Renders a document to the bytes of a PDF file.
pub fn render_pdf(doc: &Document) -> Vec<u8> {
    let mut writer = Writer::new(PageHeader {
        title: &doc.title,
        subtitle: &doc.subtitle,
        generated_at: &doc.generated_at,
        landscape: doc.landscape,
    });
    for block in &doc.blocks {
        match block {
            Block::Heading(text) => writer.heading(text),
            Block::KeyValues {
                title,
                pairs,
                columns,
            } => writer.key_values(title.as_deref(), pairs, *columns),
            Block::SummaryBox { items } => writer.summary_box(items),
            Block::Table {
                columns,
                rows,
                total_row,
            } => writer.table(columns, rows.iter(), total_row.as_deref()),
            Block::Paragraph(text) => writer.paragraph(text),
            Block::Bars { bars } => writer.bars(bars),
        }
    }
    writer.finish()
}

/// Renders one table, streamed from `rows`, as a PDF export: `title` and
/// `filters_line` (left out when empty) head the first page, `generated_at`
/// goes in every footer.
///
/// Rows are laid out as they arrive and each finished page is compressed
/// straight away, so memory stays near the size of the output file. The page
/// turns landscape when the table is wide: more than seven columns, or
/// column widths adding up to more than 110 characters.
pub fn render_table_pdf(
    title: &str,
    filters_line: &str,
    generated_at: &str,
    columns: &[Column],
    rows: impl Iterator<Item = Vec<String>>,
) -> Vec<u8> {
    let subtitle: Vec<String> = if filters_line.trim().is_empty() {
        Vec::new()
    } else {
        vec![filters_line.to_string()]
    };
    let total_width: f32 = columns.iter().map(Column::effective_width).sum();
    let mut writer = Writer::new(PageHeader {
        title,
        subtitle: &subtitle,
        generated_at,
        landscape: columns.len() > 7 || total_width > 110.0,
    });
    writer.table(columns, rows, None);
    writer.finish()
}

// ---------------------------------------------------------------------------
// Geometry and style.

const LETTER_SHORT: f32 = 612.0;
const LETTER_LONG: f32 = 792.0;
const MARGIN_X: f32 = 42.0;
const MARGIN_TOP: f32 = 40.0;
/// Lowest y that content may reach.
const CONTENT_BOTTOM: f32 = 58.0;
const FOOTER_RULE_Y: f32 = 46.0;
const FOOTER_BASELINE: f32 = 34.0;

/// Space between blocks, and after a heading.
const BLOCK_GAP: f32 = 16.0;
const AFTER_HEADING_GAP: f32 = 6.0;

/// Cap height of DejaVu Sans as a fraction of the font size.
const CAP: f32 = 0.729;

const TABLE_SIZE: f32 = 8.0;
const TABLE_HEADER_SIZE: f32 = 8.0;
const TABLE_HEADER_LEADING: f32 = 9.5;
/// Height of a one-line table row; each further line of a wrapped cell adds
/// [`TABLE_LEADING`].
const ROW_H: f32 = 15.0;
const TABLE_LEADING: f32 = 10.5;
/// Smallest size a date or an amount is drawn at to stay on one line.
const MIN_FIGURE_SIZE: f32 = 5.5;
/// Rows read before a table is laid out, to size its columns.
const LAYOUT_SAMPLE_ROWS: usize = 200;
/// Most lines one table cell wraps to: a row must fit on a page.
const MAX_CELL_LINES: usize = 40;
const TOTAL_ROW_H: f32 = 17.0;
const CELL_PAD: f32 = 4.5;

const KV_SIZE: f32 = 9.0;
const KV_LEADING: f32 = 11.5;
const KV_PAD: f32 = 4.5;
const KV_GAP_X: f32 = 22.0;

const PARA_SIZE: f32 = 10.0;
const PARA_LEADING: f32 = 14.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(f32, f32, f32);

const INK: Rgb = Rgb(0.12, 0.13, 0.15);
const MUTED: Rgb = Rgb(0.40, 0.42, 0.46);
const ACCENT: Rgb = Rgb(0.15, 0.25, 0.40);
const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);
const ZEBRA: Rgb = Rgb(0.953, 0.961, 0.973);
const HAIRLINE: Rgb = Rgb(0.84, 0.85, 0.87);
const TOTAL_FILL: Rgb = Rgb(0.90, 0.92, 0.95);
const BOX_FILL: Rgb = Rgb(0.955, 0.965, 0.98);

/// What every page header and footer shows.
struct PageHeader<'a> {
    title: &'a str,
    subtitle: &'a [String],
    generated_at: &'a str,
    landscape: bool,
}

// ---------------------------------------------------------------------------
// Canvas: drawing primitives on one content stream.

struct Canvas {
    content: Content,
    /// The fill colour and font last set: they stay in force across text
    /// objects, so a table's thousands of cells set them once, not per cell
    /// (a third of an export's content bytes otherwise).
    fill: Option<Rgb>,
    font: Option<(Font, f32)>,
}

impl Canvas {
    fn new() -> Self {
        Canvas {
            content: Content::new(),
            fill: None,
            font: None,
        }
    }

    fn set_fill(&mut self, color: Rgb) {
        if self.fill != Some(color) {
            self.content.set_fill_rgb(color.0, color.1, color.2);
            self.fill = Some(color);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        fonts: &mut Embedder,
        x: f32,
        baseline: f32,
        font: Font,
        size: f32,
        color: Rgb,
        line: &[Shaped],
    ) {
        if line.is_empty() {
            return;
        }
        let codes = fonts.encode(font, line);
        self.set_fill(color);
        self.content.begin_text();
        if self.font != Some((font, size)) {
            self.content.set_font(Name(font.resource_name()), size);
            self.font = Some((font, size));
        }
        self.content
            .next_line(hundredths(x), hundredths(baseline))
            .show(Str(&codes))
            .end_text();
    }

    /// Draws a line aligned inside `[x, x + w]`, cut with `…` to fit (page
    /// furniture only; content is wrapped before it gets here).
    #[allow(clippy::too_many_arguments)]
    fn text_in(
        &mut self,
        fonts: &mut Embedder,
        x: f32,
        w: f32,
        align: Align,
        baseline: f32,
        font: Font,
        size: f32,
        color: Rgb,
        line: &[Shaped],
    ) {
        let fitted = text::truncate(line, font, size, w);
        let tw = text::width(&fitted, size);
        let left = match align {
            Align::Left => x,
            Align::Right => x + w - tw,
            Align::Center => x + (w - tw) / 2.0,
        };
        self.text(fonts, left, baseline, font, size, color, &fitted);
    }

    fn fill_rect(&mut self, x: f32, y_bottom: f32, w: f32, h: f32, color: Rgb) {
        self.set_fill(color);
        self.content
            .rect(
                hundredths(x),
                hundredths(y_bottom),
                hundredths(w),
                hundredths(h),
            )
            .fill_nonzero();
    }

    fn stroke_rect(&mut self, x: f32, y_bottom: f32, w: f32, h: f32, width: f32, color: Rgb) {
        self.content
            .set_line_width(width)
            .set_stroke_rgb(color.0, color.1, color.2)
            .rect(x, y_bottom, w, h)
            .stroke();
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        self.content
            .set_line_width(width)
            .set_stroke_rgb(color.0, color.1, color.2)
            .move_to(x1, y)
            .line_to(x2, y)
            .stroke();
    }

    fn vline(&mut self, x: f32, y1: f32, y2: f32, width: f32, color: Rgb) {
        self.content
            .set_line_width(width)
            .set_stroke_rgb(color.0, color.1, color.2)
            .move_to(x, y1)
            .line_to(x, y2)
            .stroke();
    }

    fn finish(self) -> Vec<u8> {
        self.content.finish().to_vec()
    }
}

/// A coordinate rounded to 1/100 pt: far below what a printer shows, and it
/// keeps every number in the content stream short.
fn hundredths(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        ZlibEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::new(6));
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

// ---------------------------------------------------------------------------
// Writer: pages, the vertical cursor and page furniture.

const CATALOG: Ref = Ref::new(1);
const PAGE_TREE: Ref = Ref::new(2);
/// The Type 0 fonts of the regular and the bold face.
const FONT_REFS: [Ref; 2] = [Ref::new(3), Ref::new(4)];
const INFO: Ref = Ref::new(5);
const FIRST_FREE_REF: i32 = 6;

const RUNNING_HEADER_RULE: f32 = 14.0;
const RUNNING_HEADER_H: f32 = 30.0;

struct Writer<'a> {
    pdf: Pdf,
    next_ref: i32,
    header: PageHeader<'a>,
    page_w: f32,
    page_h: f32,
    /// Body content streams of finished pages.
    bodies: Vec<Ref>,
    canvas: Canvas,
    /// The glyphs drawn so far, for the embedded font subsets.
    fonts: Embedder,
    /// Top of the free space on the current page.
    y: f32,
    /// Nothing has been drawn below the page header yet.
    page_fresh: bool,
    /// The last block was a heading (the next one follows closely).
    after_heading: bool,
}

impl<'a> Writer<'a> {
    fn new(header: PageHeader<'a>) -> Self {
        let (page_w, page_h) = if header.landscape {
            (LETTER_LONG, LETTER_SHORT)
        } else {
            (LETTER_SHORT, LETTER_LONG)
        };
        let mut writer = Writer {
            pdf: Pdf::new(),
            next_ref: FIRST_FREE_REF,
            header,
            page_w,
            page_h,
            bodies: Vec::new(),
            canvas: Canvas::new(),
            fonts: Embedder::new(),
            y: 0.0,
            page_fresh: true,
            after_heading: false,
        };
        writer.draw_first_header();
        writer
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next_ref);
        self.next_ref += 1;
        r
    }

    /// Draws a line of text on the current page.
    fn draw(&mut self, x: f32, baseline: f32, font: Font, size: f32, color: Rgb, line: &[Shaped]) {
        self.canvas
            .text(&mut self.fonts, x, baseline, font, size, color, line);
    }

    /// Draws a line aligned inside `[x, x + w]` on the current page.
    #[allow(clippy::too_many_arguments)]
    fn draw_in(
        &mut self,
        x: f32,
        w: f32,
        align: Align,
        baseline: f32,
        font: Font,
        size: f32,
        color: Rgb,
        line: &[Shaped],
    ) {
        let left = match align {
            Align::Left => x,
            Align::Right => x + w - text::width(line, size),
            Align::Center => x + (w - text::width(line, size)) / 2.0,
        };
        self.draw(left, baseline, font, size, color, line);
    }

    fn content_w(&self) -> f32 {
        self.page_w - 2.0 * MARGIN_X
    }

    /// Height available below the running header of a new page.
    fn fresh_page_space(&self) -> f32 {
        self.page_h - MARGIN_TOP - RUNNING_HEADER_H - CONTENT_BOTTOM
    }

    /// Finishes the current page and starts the next one.
    fn new_page(&mut self) {
        self.flush_page();
        self.draw_running_header();
    }

    /// Compresses the current page's body into the file.
    fn flush_page(&mut self) {
        let body = std::mem::replace(&mut self.canvas, Canvas::new()).finish();
        let id = self.alloc();
        self.pdf
            .stream(id, &deflate(&body))
            .filter(Filter::FlateDecode);
        self.bodies.push(id);
    }

    /// Makes room for a part `height` tall, `gap` below what is above: starts
    /// a new page unless it fits (or the page is still empty, where nothing
    /// would be gained). Leaves `y` at the top of the part.
    fn reserve(&mut self, gap: f32, height: f32) {
        if self.page_fresh {
            return;
        }
        if self.y - gap - height < CONTENT_BOTTOM {
            self.new_page();
        } else {
            self.y -= gap;
        }
    }

    /// Gap before a new block.
    fn block_gap(&mut self) -> f32 {
        if std::mem::take(&mut self.after_heading) {
            AFTER_HEADING_GAP
        } else {
            BLOCK_GAP
        }
    }

    /// Moves the cursor below something just drawn.
    fn advance(&mut self, height: f32) {
        self.y -= height;
        self.page_fresh = false;
    }

    fn draw_first_header(&mut self) {
        let w = self.content_w();
        let mut y = self.page_h - MARGIN_TOP;
        if !self.header.title.trim().is_empty() {
            for line in text::wrap_limited(self.header.title, Font::Bold, 18.0, w, 3) {
                self.draw(MARGIN_X, y - 18.0 * CAP, Font::Bold, 18.0, INK, &line);
                y -= 23.0;
            }
        }
        for sub in self.header.subtitle {
            for line in text::wrap(sub, Font::Regular, 10.0, w) {
                self.draw(
                    MARGIN_X,
                    y - 10.0 * CAP - 1.0,
                    Font::Regular,
                    10.0,
                    MUTED,
                    &line,
                );
                y -= 13.5;
            }
        }
        y -= 6.0;
        self.canvas
            .hline(MARGIN_X, self.page_w - MARGIN_X, y, 1.2, ACCENT);
        self.y = y - 18.0;
        self.page_fresh = true;
    }

    fn draw_running_header(&mut self) {
        let w = self.content_w();
        let top = self.page_h - MARGIN_TOP;
        let baseline = top - 10.0 * CAP;
        let title = text::shape(self.header.title, Font::Bold);
        let title = text::truncate(&title, Font::Bold, 10.0, w * 0.6);
        let title_w = text::width(&title, 10.0);
        self.draw(MARGIN_X, baseline, Font::Bold, 10.0, INK, &title);
        if let Some(first) = self.header.subtitle.first() {
            let room = w - title_w - 24.0;
            if room > 40.0 {
                let sub = text::shape(first, Font::Regular);
                let x = MARGIN_X + w - room;
                self.canvas.text_in(
                    &mut self.fonts,
                    x,
                    room,
                    Align::Right,
                    baseline,
                    Font::Regular,
                    8.0,
                    MUTED,
                    &sub,
                );
            }
        }
        let rule_y = top - RUNNING_HEADER_RULE;
        self.canvas
            .hline(MARGIN_X, self.page_w - MARGIN_X, rule_y, 0.6, HAIRLINE);
        self.y = top - RUNNING_HEADER_H;
        self.page_fresh = true;
    }

    fn footer(&mut self, page: usize, pages: usize) -> Vec<u8> {
        let mut canvas = Canvas::new();
        let w = self.content_w();
        canvas.hline(MARGIN_X, MARGIN_X + w, FOOTER_RULE_Y, 0.5, HAIRLINE);
        let right = text::shape(&format!("Page {page} of {pages}"), Font::Regular);
        let right_w = text::width(&right, 8.0);
        canvas.text_in(
            &mut self.fonts,
            MARGIN_X,
            w,
            Align::Right,
            FOOTER_BASELINE,
            Font::Regular,
            8.0,
            MUTED,
            &right,
        );
        if !self.header.generated_at.trim().is_empty() {
            let left = text::shape(
                &format!("Generated {}", self.header.generated_at),
                Font::Regular,
            );
            let room = w - right_w - 24.0;
            canvas.text_in(
                &mut self.fonts,
                MARGIN_X,
                room,
                Align::Left,
                FOOTER_BASELINE,
                Font::Regular,
                8.0,
                MUTED,
                &left,
            );
        }
        canvas.finish()
    }

    /// Writes the footers and the document structure; returns the file.
    fn finish(mut self) -> Vec<u8> {
        self.flush_page();
        let bodies = std::mem::take(&mut self.bodies);
        let pages = bodies.len();
        let media = Rect::new(0.0, 0.0, self.page_w, self.page_h);
        let mut page_refs = Vec::with_capacity(pages);
        for (i, body) in bodies.into_iter().enumerate() {
            let footer = self.footer(i + 1, pages);
            let footer_id = self.alloc();
            self.pdf
                .stream(footer_id, &deflate(&footer))
                .filter(Filter::FlateDecode);
            let page_id = self.alloc();
            let mut page = self.pdf.page(page_id);
            page.media_box(media)
                .parent(PAGE_TREE)
                .contents_array([body, footer_id]);
            page.resources()
                .fonts()
                .pair(Name(Font::Regular.resource_name()), FONT_REFS[0])
                .pair(Name(Font::Bold.resource_name()), FONT_REFS[1]);
            page.finish();
            page_refs.push(page_id);
        }
        self.pdf
            .pages(PAGE_TREE)
            .kids(page_refs)
            .count(pages as i32);
        self.pdf.catalog(CATALOG).pages(PAGE_TREE);
        let fonts = std::mem::replace(&mut self.fonts, Embedder::new());
        let mut next_ref = self.next_ref;
        fonts.write(&mut self.pdf, FONT_REFS, || {
            next_ref += 1;
            Ref::new(next_ref - 1)
        });
        let mut info = self.pdf.document_info(INFO);
        if !self.header.title.trim().is_empty() {
            info.title(TextStr(self.header.title));
        }
        info.producer(TextStr("reports (pdf-writer)"));
        info.finish();
        self.pdf.finish()
    }
}

// ---------------------------------------------------------------------------
// Blocks.

impl Writer<'_> {
    fn heading(&mut self, heading: &str) {
        const SIZE: f32 = 12.5;
        const LEADING: f32 = 16.0;
        let w = self.content_w();
        let lines = text::wrap_limited(heading, Font::Bold, SIZE, w, 2);
        let height = lines.len() as f32 * LEADING + 5.0;
        // Keep the heading with at least a few lines of what follows.
        let gap = self.block_gap() + 4.0;
        self.reserve(gap, height + 48.0);
        let mut baseline = self.y - SIZE * CAP - 1.0;
        for line in &lines {
            self.draw(MARGIN_X, baseline, Font::Bold, SIZE, ACCENT, line);
            baseline -= LEADING;
        }
        self.canvas
            .hline(MARGIN_X, MARGIN_X + w, self.y - height, 0.6, HAIRLINE);
        self.advance(height);
        self.after_heading = true;
    }

    fn bars(&mut self, bars: &[Bar]) {
        const SIZE: f32 = 8.5;
        const ROW: f32 = 14.0;
        const NEGATIVE: Rgb = Rgb(0.75, 0.35, 0.25);
        let w = self.content_w();
        let label_w = w * 0.3;
        let value_w = 70.0;
        let bar_x = MARGIN_X + label_w + 6.0;
        let bar_w = (w - label_w - 6.0 - value_w - 6.0).max(10.0);
        let largest = bars
            .iter()
            .map(|b| b.value.abs())
            .fold(0.0_f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let gap = self.block_gap();
        self.reserve(gap, ROW * bars.len().min(4) as f32);
        for bar in bars {
            self.reserve(0.0, ROW);
            let baseline = self.y - ROW + 4.0;
            let label = text::truncate(
                &text::shape(&bar.label, Font::Regular),
                Font::Regular,
                SIZE,
                label_w,
            );
            self.draw_in(
                MARGIN_X,
                label_w,
                Align::Right,
                baseline,
                Font::Regular,
                SIZE,
                INK,
                &label,
            );
            let length = (bar.value.abs() / largest) as f32 * bar_w;
            let color = if bar.value < 0.0 { NEGATIVE } else { ACCENT };
            if length > 0.0 {
                self.canvas
                    .fill_rect(bar_x, self.y - ROW + 3.0, length.max(0.5), ROW - 5.0, color);
            }
            let value = text::shape(&bar.text, Font::Regular);
            self.draw(
                bar_x + length + 4.0,
                baseline,
                Font::Regular,
                SIZE,
                MUTED,
                &value,
            );
            self.advance(ROW);
        }
    }

    fn paragraph(&mut self, body: &str) {
        let w = self.content_w();
        let lines = text::wrap(body, Font::Regular, PARA_SIZE, w);
        let gap = self.block_gap();
        self.reserve(gap, PARA_LEADING * lines.len().min(2) as f32);
        for line in &lines {
            self.reserve(0.0, PARA_LEADING);
            let baseline = self.y - PARA_SIZE * CAP - 2.0;
            self.draw(MARGIN_X, baseline, Font::Regular, PARA_SIZE, INK, line);
            self.advance(PARA_LEADING);
        }
    }

    fn key_values(&mut self, title: Option<&str>, pairs: &[(String, String)], columns: u8) {
        const TITLE_SIZE: f32 = 10.5;
        const TITLE_LEADING: f32 = 13.0;
        const TITLE_PAD: f32 = 6.0;
        let title = title.filter(|t| !t.trim().is_empty());
        if title.is_none() && pairs.is_empty() {
            return;
        }
        let n = usize::from(columns.clamp(1, 3));
        let w = self.content_w();
        let cell_w = (w - KV_GAP_X * (n as f32 - 1.0)) / n as f32;
        let rows: Vec<Vec<KvCell>> = pairs
            .chunks(n)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|(k, v)| KvCell::layout(k, v, cell_w))
                    .collect()
            })
            .collect();
        let row_h = |row: &Vec<KvCell>| {
            let lines = row.iter().map(KvCell::lines).max().unwrap_or(1);
            lines as f32 * KV_LEADING + 2.0 * KV_PAD
        };
        let title_lines = title
            .map(|t| text::wrap(t, Font::Bold, TITLE_SIZE, w))
            .unwrap_or_default();
        let title_h = if title_lines.is_empty() {
            0.0
        } else {
            title_lines.len() as f32 * TITLE_LEADING + TITLE_PAD
        };
        // Keep small grids together, and a title with its first rows.
        let total: f32 = rows.iter().map(row_h).sum();
        let gap = self.block_gap();
        self.reserve(
            gap,
            (title_h + total).min(170.0).min(self.fresh_page_space()),
        );
        if !title_lines.is_empty() {
            let mut baseline = self.y - TITLE_SIZE * CAP - 2.0;
            for line in &title_lines {
                self.draw(MARGIN_X, baseline, Font::Bold, TITLE_SIZE, INK, line);
                baseline -= TITLE_LEADING;
            }
            self.advance(title_h);
        }
        for row in &rows {
            let h = row_h(row);
            self.reserve(0.0, h);
            for (i, cell) in row.iter().enumerate() {
                let x = MARGIN_X + i as f32 * (cell_w + KV_GAP_X);
                self.draw_kv_cell(cell, x, cell_w, h);
            }
            self.advance(h);
        }
    }

    fn draw_kv_cell(&mut self, cell: &KvCell, x: f32, cell_w: f32, h: f32) {
        let first_baseline = self.y - KV_PAD - KV_SIZE * CAP - 1.5;
        for (i, line) in cell.label.iter().enumerate() {
            let baseline = first_baseline - i as f32 * KV_LEADING;
            self.draw(x, baseline, Font::Regular, KV_SIZE, MUTED, line);
        }
        for (i, line) in cell.value.iter().enumerate() {
            let baseline = first_baseline - i as f32 * KV_LEADING;
            let vw = text::width(line, KV_SIZE);
            self.draw(x + cell_w - vw, baseline, Font::Bold, KV_SIZE, INK, line);
        }
        self.canvas.hline(x, x + cell_w, self.y - h, 0.5, HAIRLINE);
    }

    fn summary_box(&mut self, items: &[(String, String)]) {
        const PER_ROW: usize = 4;
        const LABEL_SIZE: f32 = 8.5;
        const LABEL_LEADING: f32 = 10.5;
        const VALUE_MAX: f32 = 18.0;
        const VALUE_MIN: f32 = 10.0;
        const VALUE_LEADING: f32 = 1.2;
        const PAD: f32 = 12.0;
        if items.is_empty() {
            return;
        }
        let w = self.content_w();
        let rows_n = items.len().div_ceil(PER_ROW);
        let per_row = items.len().div_ceil(rows_n);
        let gap = self.block_gap();
        let mut first = true;
        for row in items.chunks(per_row) {
            let cell_w = w / row.len() as f32;
            let inner = cell_w - 2.0 * PAD;
            // Each value shrinks to fit its cell; what still does not fit
            // (a long text at the smallest size) wraps rather than being cut.
            let cells: Vec<(Vec<Line>, f32, Vec<Line>)> = row
                .iter()
                .map(|(label, value)| {
                    let label = text::wrap_limited(label, Font::Regular, LABEL_SIZE, inner, 3);
                    let shaped = text::shape(value, Font::Bold);
                    let mut size = VALUE_MAX;
                    while size > VALUE_MIN && text::width(&shaped, size) > inner {
                        size -= 0.5;
                    }
                    let value = text::wrap_limited(value, Font::Bold, size, inner, 4);
                    (label, size, value)
                })
                .collect();
            let height = cells
                .iter()
                .map(|(label, size, value)| {
                    22.0 + label.len() as f32 * LABEL_LEADING
                        + value.len() as f32 * size * VALUE_LEADING
                })
                .fold(50.0, f32::max);
            self.reserve(if first { gap } else { 0.0 }, height);
            first = false;
            let top = self.y;
            let bottom = top - height;
            self.canvas.fill_rect(MARGIN_X, bottom, w, height, BOX_FILL);
            for (i, (label, size, value)) in cells.iter().enumerate() {
                let x = MARGIN_X + i as f32 * cell_w;
                if i > 0 {
                    self.canvas.vline(x, bottom + 8.0, top - 8.0, 0.5, HAIRLINE);
                }
                let mut baseline = top - 11.0 - LABEL_SIZE * CAP;
                for line in label {
                    self.draw(x + PAD, baseline, Font::Regular, LABEL_SIZE, MUTED, line);
                    baseline -= LABEL_LEADING;
                }
                // Values sit on the box's bottom line, the last line lowest.
                let mut baseline =
                    bottom + 11.0 + (value.len() as f32 - 1.0) * size * VALUE_LEADING;
                for line in value {
                    self.draw(x + PAD, baseline, Font::Bold, *size, INK, line);
                    baseline -= size * VALUE_LEADING;
                }
            }
            self.canvas
                .stroke_rect(MARGIN_X, bottom, w, height, 1.0, ACCENT);
            self.advance(height);
        }
    }

    fn table<R: AsRef<[String]>>(
        &mut self,
        columns: &[Column],
        rows: impl Iterator<Item = R>,
        total_row: Option<&[String]>,
    ) {
        if columns.is_empty() {
            return;
        }
        // Columns are sized to the first rows (all of them in a document; the start of
        // a streamed export), so IDs and dates keep to one line when they can.
        let mut rows = rows;
        let sample: Vec<R> = rows.by_ref().take(LAYOUT_SAMPLE_ROWS).collect();
        let sample_refs: Vec<&[String]> = sample.iter().map(AsRef::as_ref).collect();
        let layout = TableLayout::new(columns, MARGIN_X, self.content_w(), &sample_refs);
        let gap = self.block_gap();
        self.reserve(gap, layout.header_h + 2.0 * ROW_H);
        self.draw_table_header(&layout);
        let mut count = 0usize;
        let mut rows = sample.into_iter().chain(rows).peekable();
        let total = total_row.map(|cells| layout.wrap_row(columns, cells, Font::Bold));
        let total_h = total
            .as_ref()
            .map_or(0.0, |cells| row_height(cells, TOTAL_ROW_H));
        while let Some(row) = rows.next() {
            let cells = layout.wrap_row(columns, row.as_ref(), Font::Regular);
            let h = row_height(&cells, ROW_H);
            // Keep the total row with the last data row.
            let needed = if total.is_some() && rows.peek().is_none() {
                h + total_h
            } else {
                h
            };
            if self.y - needed < CONTENT_BOTTOM {
                self.new_page();
                self.draw_table_header(&layout);
            }
            let top = self.y;
            if count % 2 == 1 {
                self.canvas
                    .fill_rect(layout.x, top - h, layout.width, h, ZEBRA);
            }
            self.draw_row(&layout, &cells, top, ROW_H, Font::Regular);
            self.advance(h);
            count += 1;
        }
        if count == 0 {
            let baseline = self.y - ROW_H / 2.0 - TABLE_SIZE * CAP / 2.0;
            let none = text::shape("No rows.", Font::Regular);
            self.draw(
                layout.x + CELL_PAD,
                baseline,
                Font::Regular,
                TABLE_SIZE,
                MUTED,
                &none,
            );
            self.advance(ROW_H);
        }
        self.canvas
            .hline(layout.x, layout.x + layout.width, self.y, 0.6, HAIRLINE);
        if let Some(cells) = total {
            if self.y - total_h < CONTENT_BOTTOM {
                self.new_page();
                self.draw_table_header(&layout);
            }
            let top = self.y;
            self.canvas
                .fill_rect(layout.x, top - total_h, layout.width, total_h, TOTAL_FILL);
            self.canvas
                .hline(layout.x, layout.x + layout.width, top, 1.0, ACCENT);
            self.draw_row(&layout, &cells, top, TOTAL_ROW_H, Font::Bold);
            self.advance(total_h);
        }
    }

    /// Draws one row's wrapped cells, the first line centred in a one-line
    /// row of height `one_line_h` below `top`.
    fn draw_row(
        &mut self,
        layout: &TableLayout,
        cells: &[Cell],
        top: f32,
        one_line_h: f32,
        font: Font,
    ) {
        let first_baseline = top - one_line_h / 2.0 - TABLE_SIZE * CAP / 2.0;
        for (i, cell) in cells.iter().enumerate() {
            let (x, w) = layout.inner(i);
            for (j, line) in cell.lines.iter().enumerate() {
                let baseline = first_baseline - j as f32 * TABLE_LEADING;
                self.draw_in(x, w, layout.aligns[i], baseline, font, cell.size, INK, line);
            }
        }
    }

    fn draw_table_header(&mut self, layout: &TableLayout) {
        let top = self.y;
        let h = layout.header_h;
        self.canvas
            .fill_rect(layout.x, top - h, layout.width, h, ACCENT);
        let max_lines = layout.header_lines_max();
        // Headers sit on a common bottom line.
        let last_baseline = top - h
            + (h - (max_lines as f32 - 1.0) * TABLE_HEADER_LEADING - TABLE_HEADER_SIZE * CAP) / 2.0;
        for (i, lines) in layout.header_lines.iter().enumerate() {
            let (x, w) = layout.inner(i);
            for (j, line) in lines.iter().enumerate() {
                let from_bottom = (lines.len() - 1 - j) as f32;
                let baseline = last_baseline + from_bottom * TABLE_HEADER_LEADING;
                self.draw_in(
                    x,
                    w,
                    layout.aligns[i],
                    baseline,
                    Font::Bold,
                    TABLE_HEADER_SIZE,
                    WHITE,
                    line,
                );
            }
        }
        self.advance(h);
    }
}

/// Height of a table row whose cells wrapped to `cells`' line counts.
fn row_height(cells: &[Cell], one_line_h: f32) -> f32 {
    let lines = cells
        .iter()
        .map(|c| c.lines.len())
        .max()
        .unwrap_or(1)
        .max(1);
    one_line_h + (lines - 1) as f32 * TABLE_LEADING
}

/// One table cell laid out: its lines and the size they are drawn at.
struct Cell {
    lines: Vec<Line>,
    size: f32,
}

/// What a table cell shows: money in display form, the rest as given.
fn display_cell(kind: CellKind, cell: &str) -> Cow<'_, str> {
    match kind {
        CellKind::Money => match MoneyText::parse(cell) {
            Some(money) => Cow::Owned(money.display()),
            None => Cow::Borrowed(cell),
        },
        CellKind::Date => match us_date(cell) {
            Some(date) => Cow::Owned(date),
            None => Cow::Borrowed(cell),
        },
        CellKind::Text | CellKind::Integer => Cow::Borrowed(cell),
    }
}

/// `YYYY-MM-DD` (optionally followed by a time, which is dropped) as
/// `MM/DD/YYYY`, the form people read in the US; `None` for anything else.
fn us_date(cell: &str) -> Option<String> {
    let b = cell.trim().as_bytes();
    let date_part = b.get(..10)?;
    let digits = |r: std::ops::Range<usize>| date_part[r].iter().all(u8::is_ascii_digit);
    let rest_ok = b.len() == 10 || matches!(b[10], b'T' | b' ');
    if digits(0..4)
        && date_part[4] == b'-'
        && digits(5..7)
        && date_part[7] == b'-'
        && digits(8..10)
        && rest_ok
    {
        let s = std::str::from_utf8(date_part).ok()?;
        Some(format!("{}/{}/{}", &s[5..7], &s[8..10], &s[0..4]))
    } else {
        None
    }
}

/// Column positions and the wrapped header of a table.
struct TableLayout {
    x: f32,
    width: f32,
    lefts: Vec<f32>,
    widths: Vec<f32>,
    aligns: Vec<Align>,
    header_lines: Vec<Vec<Line>>,
    header_h: f32,
}

impl TableLayout {
    fn new(columns: &[Column], x: f32, width: f32, sample: &[&[String]]) -> Self {
        let weights: Vec<f32> = columns.iter().map(Column::effective_width).collect();
        // Every column is at least as wide as its header's longest word, so
        // headers wrap between words rather than inside them.
        let mins: Vec<f32> = columns
            .iter()
            .map(|c| {
                let longest = c
                    .header
                    .split_whitespace()
                    .map(|word| text::width(&text::shape(word, Font::Bold), TABLE_HEADER_SIZE))
                    .fold(0.0, f32::max);
                (longest + 2.0 * CELL_PAD + 0.5).min(width * 0.4)
            })
            .collect();
        // What each column's cells need on one line (a long text counts for at most
        // 40% of the table: it wraps instead of starving the others).
        let wanted: Vec<f32> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let longest = sample
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| {
                        let shown = display_cell(c.kind, cell);
                        text::width(&text::shape(&shown, Font::Regular), TABLE_SIZE)
                    })
                    .fold(0.0, f32::max);
                (longest + 2.0 * CELL_PAD + 0.5)
                    .min(width * 0.4)
                    .max(mins[i])
            })
            .collect();
        let widths = if sample.is_empty() {
            // Nothing to measure: a date or an amount still gets room for a typical one.
            let mins: Vec<f32> = columns
                .iter()
                .zip(&mins)
                .map(|(c, min)| {
                    let typical = match c.kind {
                        CellKind::Date => "00/00/0000",
                        CellKind::Money => "$00,000.00",
                        CellKind::Text | CellKind::Integer => "",
                    };
                    let typical = text::width(&text::shape(typical, Font::Regular), TABLE_SIZE);
                    min.max(typical + 2.0 * CELL_PAD + 0.5).min(width * 0.4)
                })
                .collect();
            fit_widths(&weights, &mins, width)
        } else {
            fit_to_content(&wanted, &weights, width)
        };
        let mut lefts = Vec::with_capacity(columns.len());
        let mut left = x;
        for w in &widths {
            lefts.push(left);
            left += w;
        }
        let header_lines: Vec<Vec<Line>> = columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                text::wrap_limited(
                    &c.header,
                    Font::Bold,
                    TABLE_HEADER_SIZE,
                    (w - 2.0 * CELL_PAD).max(1.0),
                    2,
                )
            })
            .collect();
        let max_lines = header_lines.iter().map(Vec::len).max().unwrap_or(1);
        let header_h = 11.0 + max_lines as f32 * TABLE_HEADER_LEADING;
        TableLayout {
            x,
            width,
            lefts,
            widths,
            aligns: columns.iter().map(|c| c.align).collect(),
            header_lines,
            header_h,
        }
    }

    /// A row's cells in display form, each wrapped to its column.
    /// A row's cells in display form: text wrapped to its column; a date, an
    /// amount or a number kept on one line, drawn smaller if it does not fit.
    fn wrap_row(&self, columns: &[Column], row: &[String], font: Font) -> Vec<Cell> {
        columns
            .iter()
            .zip(row)
            .enumerate()
            .map(|(i, (column, cell))| {
                let shown = display_cell(column.kind, cell);
                let (_, w) = self.inner(i);
                let w = w.max(1.0);
                match column.kind {
                    CellKind::Text => Cell {
                        lines: text::wrap_limited(&shown, font, TABLE_SIZE, w, MAX_CELL_LINES),
                        size: TABLE_SIZE,
                    },
                    CellKind::Money | CellKind::Date | CellKind::Integer => {
                        let line = text::shape(&shown, font);
                        let natural = text::width(&line, TABLE_SIZE);
                        let size = if natural <= w {
                            TABLE_SIZE
                        } else {
                            (TABLE_SIZE * w / natural).max(MIN_FIGURE_SIZE)
                        };
                        Cell {
                            lines: vec![line],
                            size,
                        }
                    }
                }
            })
            .collect()
    }

    fn header_lines_max(&self) -> usize {
        self.header_lines.iter().map(Vec::len).max().unwrap_or(1)
    }

    /// Left edge and width of column `i`'s text area.
    fn inner(&self, i: usize) -> (f32, f32) {
        (
            self.lefts[i] + CELL_PAD,
            (self.widths[i] - 2.0 * CELL_PAD).max(0.0),
        )
    }
}

/// Sizes columns to what their cells need: when everything fits, each gets what
/// it wants and the room left is shared by `weights`; otherwise the narrow
/// columns get what they want and the wide ones share the rest equally
/// (max-min fairness), so only the widest values wrap.
fn fit_to_content(wanted: &[f32], weights: &[f32], total: f32) -> Vec<f32> {
    let wanted_sum: f32 = wanted.iter().sum();
    if wanted_sum <= total {
        let weight_sum: f32 = weights.iter().sum();
        let spare = total - wanted_sum;
        return wanted
            .iter()
            .zip(weights)
            .map(|(w, weight)| w + spare * weight / weight_sum)
            .collect();
    }
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by(|&a, &b| wanted[a].total_cmp(&wanted[b]));
    let mut widths = vec![0.0; wanted.len()];
    let mut left = total;
    for (done, &i) in order.iter().enumerate() {
        let share = left / (order.len() - done) as f32;
        widths[i] = wanted[i].min(share);
        left -= widths[i];
    }
    widths
}

/// Splits `total` among columns in proportion to `weights`, giving each at
/// least its minimum when all minimums fit.
fn fit_widths(weights: &[f32], mins: &[f32], total: f32) -> Vec<f32> {
    let weight_sum: f32 = weights.iter().sum();
    let proportional = || weights.iter().map(|w| total * w / weight_sum).collect();
    let min_sum: f32 = mins.iter().sum();
    if min_sum >= total {
        // Too many columns for their minimums: share the room in proportion to them,
        // so dates and amounts still get more than a short text column.
        return mins.iter().map(|m| total * m / min_sum).collect();
    }
    let mut pinned = vec![false; weights.len()];
    loop {
        let free_total = total
            - mins
                .iter()
                .zip(&pinned)
                .filter(|(_, &p)| p)
                .map(|(m, _)| m)
                .sum::<f32>();
        let free_weight: f32 = weights
            .iter()
            .zip(&pinned)
            .filter(|(_, &p)| !p)
            .map(|(w, _)| w)
            .sum();
        if free_weight <= 0.0 {
            return proportional();
        }
        let mut changed = false;
        for i in 0..weights.len() {
            if !pinned[i] && free_total * weights[i] / free_weight < mins[i] {
                pinned[i] = true;
                changed = true;
            }
        }
        if !changed {
            return (0..weights.len())
                .map(|i| {
                    if pinned[i] {
                        mins[i]
                    } else {
                        free_total * weights[i] / free_weight
                    }
                })
                .collect();
        }
    }
}

/// One key/value grid cell, wrapped to its width.
struct KvCell {
    label: Vec<Line>,
    value: Vec<Line>,
}

impl KvCell {
    fn layout(label: &str, value: &str, cell_w: f32) -> Self {
        const GAP: f32 = 10.0;
        const MAX_LINES: usize = 12;
        // The value keeps its natural width when it can; the label gets the
        // rest, and never less than half the cell.
        let natural_value = value
            .split('\n')
            .map(|line| text::width(&text::shape(line, Font::Bold), KV_SIZE))
            .fold(0.0, f32::max);
        let label_max = (cell_w - GAP - natural_value).max(cell_w * 0.5);
        let label_lines = text::wrap_limited(label, Font::Regular, KV_SIZE, label_max, MAX_LINES);
        let label_w = label_lines
            .iter()
            .map(|l| text::width(l, KV_SIZE))
            .fold(0.0, f32::max);
        let value_w = (cell_w - label_w - GAP).max(cell_w * 0.25);
        let value_lines = text::wrap_limited(value, Font::Bold, KV_SIZE, value_w, MAX_LINES);
        KvCell {
            label: label_lines,
            value: value_lines,
        }
    }

    fn lines(&self) -> usize {
        self.label.len().max(self.value.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_weights_when_minimums_allow() {
        let widths = fit_widths(&[1.0, 3.0], &[10.0, 10.0], 400.0);
        assert_eq!(widths, vec![100.0, 300.0]);
    }

    #[test]
    fn narrow_columns_get_their_minimum_from_the_others() {
        let widths = fit_widths(&[1.0, 10.0, 10.0], &[50.0, 10.0, 10.0], 420.0);
        assert_eq!(widths[0], 50.0);
        assert!((widths.iter().sum::<f32>() - 420.0).abs() < 1e-3);
        assert!((widths[1] - widths[2]).abs() < 1e-3);
    }

    #[test]
    fn columns_fit_their_content_and_only_the_widest_wraps() {
        // Everything fits: each gets what it wants, the spare room by weight.
        assert_eq!(
            fit_to_content(&[50.0, 100.0], &[1.0, 3.0], 230.0),
            vec![70.0, 160.0]
        );
        // Too wide: the narrow ones keep their width, the widest take what is left.
        let widths = fit_to_content(&[40.0, 300.0, 60.0, 500.0], &[1.0; 4], 500.0);
        assert_eq!(widths, vec![40.0, 200.0, 60.0, 200.0]);
    }

    #[test]
    fn impossible_minimums_share_the_room_in_proportion() {
        let widths = fit_widths(&[1.0, 1.0], &[300.0, 100.0], 200.0);
        assert_eq!(widths, vec![150.0, 50.0]);
    }

    #[test]
    fn money_cells_are_shown_in_display_form() {
        assert_eq!(display_cell(CellKind::Money, "1234.5"), "$1,234.50");
        assert_eq!(display_cell(CellKind::Money, "n/a"), "n/a");
        assert_eq!(display_cell(CellKind::Integer, "1234"), "1234");
        assert_eq!(display_cell(CellKind::Date, "2024-06-07"), "06/07/2024");
        assert_eq!(
            display_cell(CellKind::Date, "2024-06-07T10:00:00Z"),
            "06/07/2024"
        );
        assert_eq!(display_cell(CellKind::Date, "next week"), "next week");
    }

    #[test]
    fn table_header_words_are_never_split() {
        let columns = vec![
            Column::text("Installments", 1.0),
            Column::text("Driver", 20.0),
        ];
        let layout = TableLayout::new(&columns, 0.0, 300.0, &[]);
        let header: String = layout.header_lines[0][0].iter().map(|s| s.ch).collect();
        assert_eq!(layout.header_lines[0].len(), 1);
        assert_eq!(header, "Installments");
        assert!((layout.widths.iter().sum::<f32>() - 300.0).abs() < 1e-3);
    }
}
