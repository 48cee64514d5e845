//! Reading back the text of a PDF this crate wrote, for tests (here and in the service):
//! every string a page shows, decoded through its font's `/ToUnicode` map, in the order
//! drawn. It reads only what [`crate::render_pdf`] writes (uncompressed object headers,
//! Flate-compressed content streams, Type 0 fonts with Identity-H codes); it is not a
//! general PDF parser. Independent checks use `pdftotext` in the service's tests.

use std::collections::HashMap;
use std::io::Read;

/// The strings shown on the pages, one per text-showing operation, decoded to Unicode.
pub fn shown_strings(pdf: &[u8]) -> Vec<String> {
    let objects = objects(pdf);
    let by_id: HashMap<u32, &Object> = objects.iter().map(|o| (o.id, o)).collect();
    // Font resource name (F1, F2) → its code → text map.
    let mut fonts: HashMap<Vec<u8>, HashMap<u16, String>> = HashMap::new();
    for object in &objects {
        for (name, font_id) in font_resources(&object.dict) {
            if fonts.contains_key(&name) {
                continue;
            }
            let map = by_id
                .get(&font_id)
                .and_then(|font| reference(&font.dict, b"/ToUnicode"))
                .and_then(|cmap_id| by_id.get(&cmap_id))
                .and_then(|cmap| cmap.stream.as_deref())
                .map(parse_cmap)
                .unwrap_or_default();
            fonts.insert(name, map);
        }
    }
    let mut out = Vec::new();
    for object in &objects {
        if let Some(content) = &object.stream {
            // Font programs (/Length1) are binary and never content.
            if !contains(&object.dict, b"/Length1") && contains(content, b" Tf") {
                show_operations(content, &fonts, &mut out);
            }
        }
    }
    out
}

struct Object {
    id: u32,
    dict: Vec<u8>,
    stream: Option<Vec<u8>>,
}

/// The objects in file order, with their streams inflated when compressed.
fn objects(pdf: &[u8]) -> Vec<Object> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find_from(pdf, b" 0 obj", at) {
        let id_start = pdf[..start]
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |p| p + 1);
        let id = std::str::from_utf8(&pdf[id_start..start])
            .ok()
            .and_then(|s| s.parse().ok());
        let body_start = start + b" 0 obj".len();
        let Some(end) = find_from(pdf, b"endobj", body_start) else {
            break;
        };
        at = end + b"endobj".len();
        let Some(id) = id else { continue };
        let body = &pdf[body_start..end];
        let (dict, stream) = match find_from(body, b"stream\n", 0) {
            Some(s) => {
                let data_start = s + b"stream\n".len();
                let data_end = find_from(body, b"\nendstream", data_start).unwrap_or(body.len());
                let raw = &body[data_start..data_end];
                let dict = body[..s].to_vec();
                let data = if contains(&dict, b"/FlateDecode") {
                    let mut inflated = Vec::new();
                    flate2::read::ZlibDecoder::new(raw)
                        .read_to_end(&mut inflated)
                        .ok()
                        .map(|_| inflated)
                } else {
                    Some(raw.to_vec())
                };
                (dict, data)
            }
            None => (body.to_vec(), None),
        };
        out.push(Object { id, dict, stream });
    }
    out
}

fn find_from(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find_from(haystack, needle, 0).is_some()
}

/// `/Key N 0 R` in a dictionary.
fn reference(dict: &[u8], key: &[u8]) -> Option<u32> {
    let at = find_from(dict, key, 0)? + key.len();
    let rest = std::str::from_utf8(&dict[at..]).ok()?;
    rest.split_whitespace().next()?.parse().ok()
}

/// `(name, object id)` of each font in a `/Font << /F1 3 0 R … >>` resource dictionary.
fn font_resources(dict: &[u8]) -> Vec<(Vec<u8>, u32)> {
    let Some(at) = find_from(dict, b"/Font <<", 0) else {
        return Vec::new();
    };
    let start = at + b"/Font <<".len();
    let end = find_from(dict, b">>", start).unwrap_or(dict.len());
    let text = String::from_utf8_lossy(&dict[start..end]);
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(4)
        .filter(|w| w[0].starts_with('/') && w[2] == "0" && w[3] == "R")
        .filter_map(|w| Some((w[0].as_bytes()[1..].to_vec(), w[1].parse().ok()?)))
        .collect()
}

/// The `bfchar` (and `bfrange`) entries of a ToUnicode CMap.
fn parse_cmap(cmap: &[u8]) -> HashMap<u16, String> {
    let text = String::from_utf8_lossy(cmap);
    let mut map = HashMap::new();
    for block in text.split("beginbfchar").skip(1) {
        let block = block.split("endbfchar").next().unwrap_or("");
        let hexes = hex_tokens(block);
        for pair in hexes.chunks(2) {
            if let [code, unicode] = pair {
                if let Some(code) = code_of(code) {
                    map.insert(code, utf16_text(unicode));
                }
            }
        }
    }
    for block in text.split("beginbfrange").skip(1) {
        let block = block.split("endbfrange").next().unwrap_or("");
        for triple in hex_tokens(block).chunks(3) {
            if let [first, last, unicode] = triple {
                let (Some(first), Some(last)) = (code_of(first), code_of(last)) else {
                    continue;
                };
                let base: Vec<u16> = utf16_units(unicode);
                for (offset, code) in (first..=last).enumerate() {
                    let mut units = base.clone();
                    if let Some(lastu) = units.last_mut() {
                        *lastu += offset as u16;
                    }
                    map.insert(code, String::from_utf16_lossy(&units));
                }
            }
        }
    }
    map
}

fn hex_tokens(text: &str) -> Vec<Vec<u8>> {
    text.split('<')
        .skip(1)
        .filter_map(|t| t.split('>').next())
        .map(hex_bytes)
        .collect()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|d| match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => d - b'A' + 10,
        })
        .collect();
    digits
        .chunks(2)
        .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
        .collect()
}

fn code_of(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
        [b] => Some(u16::from(*b)),
        _ => None,
    }
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p.get(1).copied().unwrap_or(0)]))
        .collect()
}

fn utf16_text(bytes: &[u8]) -> String {
    String::from_utf16_lossy(&utf16_units(bytes))
}

/// Walks a content stream, decoding the string of every `Tj` with the font set by the
/// last `Tf`.
fn show_operations(
    content: &[u8],
    fonts: &HashMap<Vec<u8>, HashMap<u16, String>>,
    out: &mut Vec<String>,
) {
    let mut font: Option<&HashMap<u16, String>> = None;
    let mut last_name: Vec<u8> = Vec::new();
    let mut last_string: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'/' => {
                let end = content[i + 1..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || b"/[]()<>".contains(b))
                    .map_or(content.len(), |p| i + 1 + p);
                last_name = content[i + 1..end].to_vec();
                i = end;
            }
            b'(' => {
                let (bytes, end) = literal(content, i + 1);
                last_string = bytes;
                i = end;
            }
            b'<' => {
                let end = find_from(content, b">", i).unwrap_or(content.len());
                last_string = hex_bytes(&String::from_utf8_lossy(&content[i + 1..end]));
                i = end + 1;
            }
            b'T' if content.get(i + 1) == Some(&b'f') => {
                font = fonts.get(&last_name);
                i += 2;
            }
            b'T' if content.get(i + 1) == Some(&b'j') => {
                let text = last_string
                    .chunks(2)
                    .map(|pair| {
                        let code = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
                        font.and_then(|f| f.get(&code))
                            .cloned()
                            .unwrap_or_else(|| '\u{FFFD}'.to_string())
                    })
                    .collect();
                out.push(text);
                i += 2;
            }
            _ => i += 1,
        }
    }
}

/// A literal string starting after its `(`: its bytes and the index after its `)`.
fn literal(content: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut depth = 1;
    let mut out = Vec::new();
    while i < content.len() {
        let c = content[i];
        match c {
            b'\\' if i + 1 < content.len() => {
                i += 1;
                match content[i] {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'0'..=b'7' => {
                        let digits: Vec<u8> = content[i..]
                            .iter()
                            .take(3)
                            .take_while(|d| (b'0'..=b'7').contains(d))
                            .copied()
                            .collect();
                        let value = digits.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                        out.push(value as u8);
                        i += digits.len() - 1;
                    }
                    b'\n' => {}
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(c);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return (out, i + 1);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    (out, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{render_pdf, Block, Document};

    #[test]
    fn reads_back_what_was_drawn_in_every_script() {
        let mut doc = Document::new("Zoë Łukasz-Müller");
        doc.blocks
            .push(Block::Paragraph("Оксана (Đorđe) \\ №42 €5 – ’".into()));
        let strings = shown_strings(&render_pdf(&doc));
        assert!(
            strings.contains(&"Zoë Łukasz-Müller".to_string()),
            "{strings:?}"
        );
        assert!(
            strings.contains(&"Оксана (Đorđe) \\ №42 €5 – ’".to_string()),
            "{strings:?}"
        );
        assert!(strings.contains(&"Page 1 of 1".to_string()), "{strings:?}");
    }

    #[test]
    fn cmap_entries_and_ranges_are_read() {
        let cmap = b"2 beginbfchar\n<0001> <0041>\n<0002> <00E9>\nendbfchar\n1 beginbfrange\n<0003> <0004> <0061>\nendbfrange";
        let map = parse_cmap(cmap);
        assert_eq!(map[&1], "A");
        assert_eq!(map[&2], "é");
        assert_eq!(map[&3], "a");
        assert_eq!(map[&4], "b");
    }
}
