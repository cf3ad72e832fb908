//! Report bodies written while their rows are read: CSV (RFC 4180, UTF-8, guarded against
//! spreadsheet formula injection) or a JSON document, in chunks through a bounded channel, so
//! memory stays flat whatever the row count and a slow client slows the reading down.
use serde::Serialize;
use tokio::sync::mpsc;

/// Rows of a report: a CSV header and the row's cells in the same order.
pub trait ReportRow: Serialize {
    const HEADER: &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8; header=present",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// The two CSV field writers: quoting only where RFC 4180 needs it, and always.
struct FieldWriters {
    necessary: csv_core::Writer,
    always: csv_core::Writer,
}

impl FieldWriters {
    fn new() -> Self {
        let build = |style| {
            csv_core::WriterBuilder::new()
                .quote_style(style)
                .terminator(csv_core::Terminator::CRLF)
                .build()
        };
        Self {
            necessary: build(csv_core::QuoteStyle::Necessary),
            always: build(csv_core::QuoteStyle::Always),
        }
    }
}

thread_local! {
    static WRITERS: std::cell::RefCell<FieldWriters> = std::cell::RefCell::new(FieldWriters::new());
}

/// Writes `value` as one field with `writer` (csv-core quotes and doubles inner quotes).
fn encode(writer: &mut csv_core::Writer, value: &str, out: &mut String) {
    let mut bytes = Vec::with_capacity(value.len() + 2);
    let mut buffer = [0u8; 1024];
    let mut input = value.as_bytes();
    loop {
        let (result, read, written) = writer.field(input, &mut buffer);
        bytes.extend_from_slice(&buffer[..written]);
        input = &input[read..];
        if result == csv_core::WriteResult::InputEmpty {
            break;
        }
    }
    // The field is a record of its own: the terminator closes the quotes and resets the
    // writer for the next field; the record's CRLF itself is not kept.
    loop {
        let (result, written) = writer.terminator(&mut buffer);
        bytes.extend_from_slice(&buffer[..written]);
        if result == csv_core::WriteResult::InputEmpty {
            break;
        }
    }
    bytes.truncate(bytes.len().saturating_sub(2));
    // Valid UTF-8 in, valid UTF-8 out: csv-core only adds ASCII quotes.
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// One CSV field: formula-like text (a leading `=`, `+`, `-`, `@`, tab or carriage return)
/// gets a leading `'` so spreadsheets show it as text (OWASP's advice), and is quoted, as is
/// text with a leading space; otherwise fields holding a comma, quote or line break are
/// quoted with inner quotes doubled (RFC 4180, by csv-core).
pub fn csv_field(value: &str, out: &mut String) {
    if value.is_empty() {
        return;
    }
    let guarded = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    WRITERS.with(|writers| {
        let mut writers = writers.borrow_mut();
        if guarded {
            encode(&mut writers.always, &format!("'{value}"), out);
        } else if value.starts_with(' ') {
            encode(&mut writers.always, value, out);
        } else {
            encode(&mut writers.necessary, value, out);
        }
    });
}

/// One CSV record, CRLF-terminated as RFC 4180 asks.
pub fn csv_record<S: AsRef<str>>(cells: &[S], out: &mut String) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(cell.as_ref(), out);
    }
    out.push_str("\r\n");
}

/// Chunks sent to the client; a chunk is sent once it passes this size.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client before the writer waits.
const IN_FLIGHT: usize = 4;

pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// The receiving end, for the HTTP body.
pub type Body = mpsc::Receiver<Chunk>;

/// The client went away: stop reading rows.
#[derive(Debug)]
pub struct Closed;

/// Writes one report. JSON reports are `{<head fields>, "items": [rows…], "total": n}`.
pub struct ReportWriter {
    tx: mpsc::Sender<Chunk>,
    format: Format,
    buffer: String,
    rows: u64,
}

impl ReportWriter {
    /// A writer and the body it feeds. `head` is the JSON document's leading fields (ignored
    /// for CSV, whose first record is the header).
    pub fn new<R: ReportRow>(format: Format, head: &serde_json::Value) -> (Self, Body) {
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let mut buffer = String::with_capacity(CHUNK * 2);
        match format {
            Format::Csv => csv_record(R::HEADER, &mut buffer),
            Format::Json => {
                let head = serde_json::to_string(head).unwrap_or_else(|_| "{}".into());
                // `{"a":1}` becomes `{"a":1,"items":[`.
                let open = head.trim_end_matches('}');
                buffer.push_str(open);
                if open.len() > 1 {
                    buffer.push(',');
                }
                buffer.push_str("\"items\":[");
            }
        }
        (
            Self {
                tx,
                format,
                buffer,
                rows: 0,
            },
            rx,
        )
    }

    pub async fn row<R: ReportRow>(&mut self, row: &R) -> Result<(), Closed> {
        match self.format {
            Format::Csv => csv_record(&row.cells(), &mut self.buffer),
            Format::Json => {
                if self.rows > 0 {
                    self.buffer.push(',');
                }
                let json = serde_json::to_string(row).map_err(|_| Closed)?;
                self.buffer.push_str(&json);
            }
        }
        self.rows += 1;
        if self.buffer.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        let chunk = std::mem::replace(&mut self.buffer, String::with_capacity(CHUNK * 2));
        self.tx
            .send(Ok(chunk.into_bytes()))
            .await
            .map_err(|_| Closed)
    }

    pub async fn finish(mut self) -> Result<(), Closed> {
        if self.format == Format::Json {
            self.buffer
                .push_str(&format!("],\"total\":{}}}", self.rows));
        }
        self.flush().await
    }

    /// Ends the body with an error: the client sees a broken download rather than a report
    /// that looks complete.
    pub async fn fail(self, message: String) {
        let _ = self.tx.send(Err(std::io::Error::other(message))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: &str) -> String {
        let mut out = String::new();
        csv_field(value, &mut out);
        out
    }

    #[test]
    fn fields_are_quoted_per_rfc_4180() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("héllo ✓"), "héllo ✓");
        assert_eq!(field(""), "");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(field("=SUM(A1:A2)"), "\"'=SUM(A1:A2)\"");
        assert_eq!(field("+1"), "\"'+1\"");
        assert_eq!(field("-2+3"), "\"'-2+3\"");
        assert_eq!(field("@cmd"), "\"'@cmd\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("a=b"), "a=b");
    }

    #[test]
    fn leading_spaces_and_long_fields() {
        assert_eq!(field(" padded"), "\" padded\"");
        let long = "x\"".repeat(2000);
        assert_eq!(field(&long), format!("\"{}\"", "x\"\"".repeat(2000)));
    }

    #[test]
    fn records_end_with_crlf() {
        let mut out = String::new();
        csv_record(&["a", "b,c"], &mut out);
        assert_eq!(out, "a,\"b,c\"\r\n");
    }
}
