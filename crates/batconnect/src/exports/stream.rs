//! Turns an [`Export`] into an HTTP download.
//!
//! - CSV is streamed: rows come from the database as a row stream, are written into
//!   ~64 KiB chunks and sent through a small bounded channel to the response body, so
//!   memory stays flat whatever the number of rows (the channel's back-pressure pauses
//!   the query while the client is slow).
//! - XLSX and PDF are rendered on a blocking thread fed row by row through a channel,
//!   capped at [`MAX_XLSX_ROWS`] / [`MAX_PDF_ROWS`] rows: the PDF writer compresses each
//!   page as it fills, the XLSX writer writes each finished row to a temporary file
//!   (constant memory); the XLSX cap is Excel's own sheet limit. A capped file says so in
//!   a last row (and in the PDF header) and points to CSV.

use std::io;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use reports::CellKind;
use sqlx::AnyPool;
use tokio::sync::mpsc;

use super::{Export, Format, Stamp, MAX_PDF_ROWS, MAX_XLSX_ROWS};
use crate::db::filter::{bind_all, bind_all_scalar};
use crate::error::AppError;

/// A place among the exports allowed to run at once ([`crate::state::AppState::export_slots`]).
pub type ExportSlot = tokio::sync::OwnedSemaphorePermit;

/// Seconds a client turned away for want of an export slot is asked to wait.
const EXPORT_RETRY_AFTER: u64 = 10;

/// Takes an export slot, or answers 503 with `Retry-After` when all are in use.
pub fn take_slot(slots: &std::sync::Arc<tokio::sync::Semaphore>) -> Result<ExportSlot, AppError> {
    slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| AppError::Busy {
            message: "the most exports that may run at once are running; try again shortly".into(),
            retry_after: EXPORT_RETRY_AFTER,
        })
}

/// Bytes gathered before a CSV chunk is sent.
const CHUNK_BYTES: usize = 64 * 1024;
/// CSV chunks in flight between the query and the client.
const CSV_CHANNEL: usize = 4;
/// Rows in flight between the query and the XLSX/PDF renderer.
const ROW_CHANNEL: usize = 512;

/// The download response for `export` in `format`.
pub async fn respond(
    pool: &AnyPool,
    export: Export,
    format: Format,
    stamp: Stamp,
    slot: ExportSlot,
) -> Result<Response, AppError> {
    let file_name = format!(
        "{}_{}.{}",
        export.file_stem,
        stamp.file_date(),
        format.extension()
    );
    let body = match format {
        Format::Csv => csv_body(pool.clone(), export, slot).await?,
        Format::Excel | Format::Pdf => {
            let file = rendered_file(pool.clone(), export, format, stamp).await?;
            drop(slot);
            Body::from(file)
        }
    };
    Ok(file_response(body, format.content_type(), &file_name))
}

/// A download: content type, `attachment` with the file name, never cached.
pub fn file_response(body: Body, content_type: &str, file_name: &str) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(file_name))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `attachment; filename="…"` with an ASCII fallback, plus RFC 5987 `filename*` when the
/// name has other characters.
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ascii == file_name {
        format!("attachment; filename=\"{ascii}\"")
    } else {
        let encoded: String = file_name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

/// Keeps spreadsheet programs from running a text cell as a formula (`=`, `+`, `-`, `@`
/// at the start: OWASP's CSV injection advice). Numbers and dates are left alone.
fn csv_cell(cell: &str, kind: CellKind) -> std::borrow::Cow<'_, str> {
    let risky = matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if kind == CellKind::Text && risky {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(CHUNK_BYTES + 8 * 1024))
}

/// Everything written so far as a chunk, leaving a fresh writer behind.
fn take_chunk(writer: &mut csv::Writer<Vec<u8>>) -> io::Result<Bytes> {
    let full = std::mem::replace(writer, csv_writer());
    let chunk = full
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(Bytes::from(chunk))
}

/// Streams the CSV. The first chunk (header and first row) is awaited before answering,
/// so a query that fails at once is a proper 500; a failure later aborts the body, which
/// the client sees as a broken download rather than a silently short file.
async fn csv_body(pool: AnyPool, export: Export, slot: ExportSlot) -> Result<Body, AppError> {
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(CSV_CHANNEL);
    tokio::spawn(async move {
        let kinds: Vec<CellKind> = export.columns.iter().map(|c| c.column.kind).collect();
        let mut writer = csv_writer();
        let header: Vec<&str> = export.columns.iter().map(|c| c.key).collect();
        let mut first_sent = false;
        let outcome: Result<(), anyhow::Error> = async {
            writer.write_record(&header)?;
            let query = bind_all(sqlx::query(&export.select_sql), &export.args);
            let mut rows = query.fetch(&pool);
            while let Some(row) = rows.try_next().await? {
                let cells = (export.row)(&row)?;
                let safe: Vec<_> = cells
                    .iter()
                    .zip(&kinds)
                    .map(|(c, k)| csv_cell(c, *k))
                    .collect();
                writer.write_record(safe.iter().map(|c| c.as_bytes()))?;
                if !first_sent || writer.get_ref().len() >= CHUNK_BYTES {
                    first_sent = true;
                    if tx.send(Ok(take_chunk(&mut writer)?)).await.is_err() {
                        // The client went away: dropping the row stream ends the query.
                        return Ok(());
                    }
                }
            }
            let _ = tx.send(Ok(take_chunk(&mut writer)?)).await;
            Ok(())
        }
        .await;
        if let Err(error) = outcome {
            tracing::error!(error = ?error, export = export.file_stem, "CSV export failed");
            let _ = tx
                .send(Err(io::Error::other(
                    "the export failed; it has been logged",
                )))
                .await;
        }
    });
    let first = match rx.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(_)) | None => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "the export failed before its first row"
            )))
        }
    };
    // The slot goes with the body: freed when the download ends or the client goes away.
    let rest = futures_util::stream::unfold((rx, slot), |(mut rx, slot)| async move {
        rx.recv().await.map(|item| (item, (rx, slot)))
    });
    Ok(Body::from_stream(
        futures_util::stream::once(async move { Ok::<_, io::Error>(first) }).chain(rest),
    ))
}

/// Rows handed to a renderer on a blocking thread, as they arrive.
struct ChannelRows(mpsc::Receiver<Vec<String>>);

impl Iterator for ChannelRows {
    type Item = Vec<String>;

    fn next(&mut self) -> Option<Vec<String>> {
        self.0.blocking_recv()
    }
}

async fn rendered_file(
    pool: AnyPool,
    export: Export,
    format: Format,
    stamp: Stamp,
) -> Result<Vec<u8>, AppError> {
    let cap = match format {
        Format::Pdf => MAX_PDF_ROWS,
        _ => MAX_XLSX_ROWS,
    };
    let total: i64 = bind_all_scalar(sqlx::query_scalar(&export.count_sql), &export.args)
        .fetch_one(&pool)
        .await?;
    let truncated = total > cap;
    let shown = total.min(cap);
    let note = truncated.then(|| {
        format!(
            "Export cut at {} of {} {}: use format=csv for all of them.",
            reports::thousands(shown),
            reports::thousands(total),
            export.noun
        )
    });
    let (rx, producer) = produce(pool.clone(), &export, cap);
    // The Excel file's second sheet, read while the first is written (its rows wait in the
    // channel, so memory stays flat).
    let second = match (&export.also, format) {
        (Some(also), Format::Excel) => {
            let (rx, producer) = produce(pool.clone(), also, MAX_XLSX_ROWS);
            let columns: Vec<reports::Column> =
                also.columns.iter().map(|c| c.column.clone()).collect();
            Some((also.sheet, columns, rx, producer))
        }
        _ => None,
    };
    let (second, second_producer) = match second {
        Some((sheet, columns, rx, producer)) => (Some((sheet, columns, rx)), Some(producer)),
        None => (None, None),
    };
    // The PDF leaves out the data-only columns; the cells are picked by index.
    let keep: Vec<usize> = export
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| format != Format::Pdf || c.in_pdf)
        .map(|(i, _)| i)
        .collect();
    let columns: Vec<reports::Column> = keep
        .iter()
        .map(|&i| export.columns[i].column.clone())
        .collect();
    // Positions (among the kept columns) of timestamps the PDF prints in local time.
    let local_times: Vec<usize> = keep
        .iter()
        .enumerate()
        .filter(|&(_, &i)| format == Format::Pdf && export.columns[i].timestamp)
        .map(|(at, _)| at)
        .collect();
    let timezone = stamp.timezone;
    let width = columns.len();
    let title = export.title.clone();
    let sheet = export.sheet;
    let mut header_line = format!(
        "{} · {} {}",
        export.filters,
        reports::thousands(total),
        export.noun
    );
    if let Some(note) = &note {
        header_line.push_str(" · ");
        header_line.push_str(note);
    }
    let generated_at = stamp.generated_at();
    let renderer = tokio::task::spawn_blocking(move || {
        let last = note.map(|n| {
            let mut row = vec![String::new(); width];
            if let Some(first) = row.first_mut() {
                *first = n;
            }
            row
        });
        let rows = ChannelRows(rx)
            .map(move |mut row| {
                let mut row: Vec<String> = if row.len() == width {
                    row
                } else {
                    keep.iter()
                        .map(|&i| row.get_mut(i).map(std::mem::take).unwrap_or_default())
                        .collect()
                };
                for &at in &local_times {
                    if let Some(cell) = row.get_mut(at) {
                        *cell = crate::house_style::stored_timestamp(cell, timezone);
                    }
                }
                row
            })
            .chain(last);
        match format {
            Format::Pdf => Ok(reports::render_table_pdf(
                &title,
                &header_line,
                &generated_at,
                &columns,
                rows,
            )),
            _ => match second {
                None => reports::render_xlsx(sheet, &columns, rows),
                Some((second_sheet, second_columns, second_rows)) => {
                    reports::render_xlsx_sheets(vec![
                        reports::Sheet {
                            name: sheet,
                            columns: &columns,
                            rows: Box::new(rows),
                        },
                        reports::Sheet {
                            name: second_sheet,
                            columns: &second_columns,
                            rows: Box::new(ChannelRows(second_rows)),
                        },
                    ])
                }
            },
        }
    });
    let file = renderer
        .await
        .map_err(|e| anyhow::anyhow!("export renderer: {e}"))?
        .map_err(|e| anyhow::anyhow!("export renderer: {e}"))?;
    // A query that failed midway must not pass for a complete file.
    producer
        .await
        .map_err(|e| anyhow::anyhow!("export query: {e}"))??;
    if let Some(producer) = second_producer {
        producer
            .await
            .map_err(|e| anyhow::anyhow!("export query: {e}"))??;
    }
    Ok(file)
}

/// Reads `export`'s rows (at most `cap`) into a channel, as cells.
fn produce(
    pool: AnyPool,
    export: &Export,
    cap: i64,
) -> (
    mpsc::Receiver<Vec<String>>,
    tokio::task::JoinHandle<Result<(), sqlx::Error>>,
) {
    let (tx, rx) = mpsc::channel::<Vec<String>>(ROW_CHANNEL);
    let select_sql = format!("{} LIMIT {cap}", export.select_sql);
    let args = export.args.clone();
    let row_fn = export.row;
    let producer = tokio::spawn(async move {
        let query = bind_all(sqlx::query(&select_sql), &args);
        let mut rows = query.fetch(&pool);
        while let Some(row) = rows.try_next().await? {
            if tx.send(row_fn(&row)?).await.is_err() {
                break;
            }
        }
        Ok::<(), sqlx::Error>(())
    });
    (rx, producer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV download keeps its export slot (and its query its connection) until the
    /// client has it all or goes away: a slow reader holds one slot, never more, and the
    /// next export beyond the slots is told to come back (503) instead of queueing for a
    /// connection the API and the Sunday run need.
    #[tokio::test]
    async fn a_slow_download_holds_one_slot_until_it_ends() {
        let dir = std::env::temp_dir().join(format!(
            "batconnect-export-slot-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = crate::db::Db::connect(&format!("sqlite://{}/e.db", dir.display()), 3)
            .await
            .unwrap();
        let export = Export {
            file_stem: "numbers",
            title: "Numbers".into(),
            sheet: "Numbers",
            noun: "numbers",
            columns: vec![super::super::ExportColumn::new(
                "n",
                reports::Column::text("n", 10.0),
            )],
            // Far more rows than the channel and the first chunk hold.
            select_sql:
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) \
                         SELECT i FROM n"
                    .into(),
            count_sql: "SELECT 200000".into(),
            args: Vec::new(),
            row: |r| {
                use sqlx::Row;
                Ok(vec![r.try_get::<i64, _>("i")?.to_string()])
            },
            filters: String::new(),
            also: None,
        };
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
        let body = csv_body(db.reader().clone(), export, take_slot(&slots).unwrap())
            .await
            .unwrap();
        // Nobody reads the body: the slot stays taken, the next export is turned away.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(slots.available_permits(), 0);
        let Err(AppError::Busy { retry_after, .. }) = take_slot(&slots) else {
            panic!("a second export got a slot");
        };
        assert_eq!(retry_after, EXPORT_RETRY_AFTER);
        // The client goes away: the slot is free and the query gives its connection back.
        drop(body);
        assert_eq!(slots.available_permits(), 1);
        let mut idle = 0;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            idle = db.reader().num_idle();
            if idle == db.reader().size() as usize {
                break;
            }
        }
        assert_eq!(idle, db.reader().size() as usize);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn text_cells_cannot_start_formulas() {
        assert_eq!(csv_cell("=SUM(A1)", CellKind::Text), "'=SUM(A1)");
        assert_eq!(csv_cell("@cmd", CellKind::Text), "'@cmd");
        assert_eq!(csv_cell("-12.00", CellKind::Money), "-12.00");
        assert_eq!(csv_cell("Ahmed Khan", CellKind::Text), "Ahmed Khan");
    }

    #[test]
    fn content_disposition_is_ascii_with_a_utf8_fallback() {
        assert_eq!(
            content_disposition("vehicle_repairs_2026-11-25.csv"),
            "attachment; filename=\"vehicle_repairs_2026-11-25.csv\""
        );
        assert_eq!(
            content_disposition("facture \"é\".pdf"),
            "attachment; filename=\"facture ___.pdf\"; filename*=UTF-8''facture%20%22%C3%A9%22.pdf"
        );
    }

    #[test]
    fn csv_is_rfc4180() {
        let mut writer = csv_writer();
        writer
            .write_record(["a,b", "say \"hi\"", "line\nbreak"])
            .unwrap();
        let chunk = take_chunk(&mut writer).unwrap();
        assert_eq!(
            std::str::from_utf8(&chunk).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\"\r\n"
        );
    }
}
