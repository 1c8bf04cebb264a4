//! PostgreSQL `COPY ... FROM STDIN` in text format: row encoding, and chunks streamed from the
//! generator threads to the writers.
//!
//! Generation is CPU work and loading is database work, so they run side by side: a generator
//! fills a [`Chunk`] and hands it over a bounded channel to [`write_chunks`], which loads it with one
//! `COPY` per table. The channel bound is what keeps memory flat for any number of runs.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::DateTime;
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use crate::layout::StoreSchema;

/// A table and the columns a seeded row fills, in row order.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

impl Table {
    fn copy_statement(&self) -> String {
        let columns: Vec<String> = self.columns.iter().map(|c| format!("\"{c}\"")).collect();
        format!("COPY \"{}\" ({}) FROM STDIN", self.name, columns.join(", "))
    }
}

/// Loads `data` (rows already encoded for `table`) and returns how many rows PostgreSQL took.
pub(crate) async fn copy_rows(
    conn: &mut PgConnection,
    table: &Table,
    data: &[u8],
) -> Result<u64, sqlx::Error> {
    let mut copy = conn.copy_in_raw(&table.copy_statement()).await?;
    if let Err(error) = copy.send(data).await {
        // Leaves the connection usable for the pool; the send error is the one worth reporting.
        let _ = copy.abort("seeding failed").await;
        return Err(error);
    }
    copy.finish().await
}

/// Writes one row in COPY text format. Columns are written in [`Table::columns`] order.
pub(crate) struct RowWriter<'a> {
    out: &'a mut Vec<u8>,
    written: usize,
    expected: usize,
}

impl<'a> RowWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>, table: &Table) -> Self {
        Self {
            out,
            written: 0,
            expected: table.columns.len(),
        }
    }

    fn separator(&mut self) {
        if self.written > 0 {
            self.out.push(b'\t');
        }
        self.written += 1;
    }

    pub fn null(&mut self) -> &mut Self {
        self.separator();
        self.out.extend_from_slice(b"\\N");
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separator();
        escape_into(self.out, value);
        self
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// A value whose `Display` never needs escaping: numbers, booleans, enum labels.
    pub fn plain(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.separator();
        // Writing into a Vec cannot fail.
        let _ = write!(self.out, "{value}");
        self
    }

    pub fn opt_plain(&mut self, value: Option<impl std::fmt::Display>) -> &mut Self {
        match value {
            Some(value) => self.plain(value),
            None => self.null(),
        }
    }

    /// A `timestamp(3)` from unix milliseconds, written as UTC wall-clock time.
    pub fn timestamp(&mut self, unix_ms: i64) -> &mut Self {
        let at = DateTime::from_timestamp_millis(unix_ms)
            .expect("seeded timestamps lie within a few days of the plan's now");
        self.plain(at.naive_utc())
    }

    pub fn opt_timestamp(&mut self, unix_ms: Option<i64>) -> &mut Self {
        match unix_ms {
            Some(unix_ms) => self.timestamp(unix_ms),
            None => self.null(),
        }
    }

    pub fn json(&mut self, value: &serde_json::Value) -> &mut Self {
        self.text(&value.to_string())
    }

    pub fn opt_json(&mut self, value: Option<&serde_json::Value>) -> &mut Self {
        match value {
            Some(value) => self.json(value),
            None => self.null(),
        }
    }

    /// A `text[]` the upstream leaves NULL rather than empty, as it does tags.
    pub fn text_array_or_null<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        if items.is_empty() {
            self.null()
        } else {
            self.text_array(items)
        }
    }

    pub fn opt_text_array<S: AsRef<str>>(&mut self, items: Option<&[S]>) -> &mut Self {
        match items {
            Some(items) => self.text_array(items),
            None => self.null(),
        }
    }

    /// A `text[]`: every element quoted, so no element can be mistaken for array syntax.
    pub fn text_array<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        let mut literal = String::from("{");
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                literal.push(',');
            }
            literal.push('"');
            for ch in item.as_ref().chars() {
                if ch == '"' || ch == '\\' {
                    literal.push('\\');
                }
                literal.push(ch);
            }
            literal.push('"');
        }
        literal.push('}');
        self.text(&literal)
    }

    pub fn end(self) {
        debug_assert_eq!(self.written, self.expected, "column count of a seeded row");
        self.out.push(b'\n');
    }
}

/// Escapes a value for COPY text format, where backslash, tab and line breaks are syntax.
fn escape_into(out: &mut Vec<u8>, value: &str) {
    for &byte in value.as_bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
}

/// The run-ops tables, in the order a chunk loads them (the discriminant indexes [`Chunk`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunOpsTable {
    TaskRun,
    TaskRunAttempt,
    BatchTaskRun,
    BatchTaskRunError,
    Waitpoint,
    /// The connections of waitpoints to the runs they blocked, whichever table holds them.
    WaitpointRunConnection,
}

impl RunOpsTable {
    pub const ALL: [Self; 6] = [
        Self::TaskRun,
        Self::TaskRunAttempt,
        Self::BatchTaskRun,
        Self::BatchTaskRunError,
        Self::Waitpoint,
        Self::WaitpointRunConnection,
    ];

    /// The table that holds these rows in a database with `schema`.
    pub fn table(self, schema: StoreSchema) -> &'static Table {
        use crate::schema as s;
        match (self, schema) {
            (Self::TaskRun, _) => &s::TASK_RUN,
            (Self::TaskRunAttempt, _) => &s::TASK_RUN_ATTEMPT,
            (Self::BatchTaskRun, _) => &s::BATCH_TASK_RUN,
            (Self::BatchTaskRunError, _) => &s::BATCH_TASK_RUN_ERROR,
            (Self::Waitpoint, _) => &s::WAITPOINT,
            (Self::WaitpointRunConnection, StoreSchema::Full) => {
                &s::WAITPOINT_RUN_CONNECTIONS_IMPLICIT
            }
            (Self::WaitpointRunConnection, StoreSchema::RunOps) => &s::WAITPOINT_RUN_CONNECTION,
        }
    }
}

/// Encoded rows for each run-ops table of one store.
#[derive(Default)]
pub(crate) struct Chunk {
    parts: [Vec<u8>; RunOpsTable::ALL.len()],
}

impl Chunk {
    fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }
}

/// The writer of a store stopped (it failed); its error is reported by [`write_chunks`].
#[derive(Debug)]
pub(crate) struct WriterGone;

/// The generator's end of a store's channel: rows accumulate until a chunk is full.
pub(crate) struct ChunkSender {
    tx: mpsc::Sender<Chunk>,
    current: Chunk,
    chunk_bytes: usize,
    schema: StoreSchema,
}

impl ChunkSender {
    /// `schema` is that of the database the chunks are loaded into.
    pub fn new(tx: mpsc::Sender<Chunk>, chunk_bytes: usize, schema: StoreSchema) -> Self {
        Self {
            tx,
            current: Chunk::default(),
            chunk_bytes,
            schema,
        }
    }

    pub fn schema(&self) -> StoreSchema {
        self.schema
    }

    pub fn row(&mut self, table: RunOpsTable) -> RowWriter<'_> {
        RowWriter::new(
            &mut self.current.parts[table as usize],
            table.table(self.schema),
        )
    }

    /// Called between groups of rows: hands the chunk over once it is full. Blocks while the
    /// writer is behind: this back-pressure is what bounds memory.
    pub fn group_done(&mut self) -> Result<(), WriterGone> {
        if self.current.len() >= self.chunk_bytes {
            self.flush()?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), WriterGone> {
        self.flush()
    }

    fn flush(&mut self) -> Result<(), WriterGone> {
        let chunk = std::mem::take(&mut self.current);
        if chunk.len() == 0 {
            return Ok(());
        }
        self.tx.blocking_send(chunk).map_err(|_| WriterGone)
    }
}

/// Rows loaded into one run-ops store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoreCounts {
    pub runs: u64,
    pub attempts: u64,
    pub batches: u64,
    pub batch_errors: u64,
    pub waitpoints: u64,
    pub waitpoint_connections: u64,
}

impl StoreCounts {
    fn add(&mut self, table: RunOpsTable, rows: u64) {
        let slot = match table {
            RunOpsTable::TaskRun => &mut self.runs,
            RunOpsTable::TaskRunAttempt => &mut self.attempts,
            RunOpsTable::BatchTaskRun => &mut self.batches,
            RunOpsTable::BatchTaskRunError => &mut self.batch_errors,
            RunOpsTable::Waitpoint => &mut self.waitpoints,
            RunOpsTable::WaitpointRunConnection => &mut self.waitpoint_connections,
        };
        *slot += rows;
    }
}

/// Loads every chunk the generators send until all senders are gone, into a database with
/// `schema`. A connection is taken per chunk rather than held, so that two stores sharing one
/// small pool cannot starve each other. Each chunk's runs are added to `runs_written` as soon as
/// PostgreSQL has them, so that a caller can show progress.
pub(crate) async fn write_chunks(
    pool: &PgPool,
    schema: StoreSchema,
    mut rx: mpsc::Receiver<Chunk>,
    runs_written: &AtomicU64,
) -> Result<StoreCounts, sqlx::Error> {
    let mut counts = StoreCounts::default();
    while let Some(chunk) = rx.recv().await {
        let mut conn = pool.acquire().await?;
        for (table, data) in RunOpsTable::ALL.into_iter().zip(&chunk.parts) {
            if !data.is_empty() {
                let rows = copy_rows(&mut conn, table.table(schema), data).await?;
                if table == RunOpsTable::TaskRun {
                    runs_written.fetch_add(rows, Ordering::Relaxed);
                }
                counts.add(table, rows);
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: Table = Table {
        name: "Pair",
        columns: &["a", "b"],
    };

    fn encode(fill: impl FnOnce(&mut RowWriter<'_>)) -> String {
        let mut out = Vec::new();
        let mut row = RowWriter::new(&mut out, &PAIR);
        fill(&mut row);
        row.end();
        String::from_utf8(out).expect("rows are UTF-8")
    }

    #[test]
    fn text_escapes_the_characters_that_are_copy_syntax() {
        let row = encode(|row| {
            row.text("tab\there\nnew\\line\r").null();
        });
        assert_eq!(row, "tab\\there\\nnew\\\\line\\r\t\\N\n");
    }

    #[test]
    fn json_string_escapes_survive_copy_escaping() {
        let value = serde_json::json!({ "stack": "Error\n    at run" });
        let row = encode(|row| {
            row.json(&value).plain(true);
        });
        assert_eq!(row, "{\"stack\":\"Error\\\\n    at run\"}\ttrue\n");
    }

    #[test]
    fn arrays_quote_every_element() {
        let row = encode(|row| {
            row.text_array(&["user:1", "a\"b", "c,d"])
                .text_array::<&str>(&[]);
        });
        assert_eq!(row, "{\"user:1\",\"a\\\\\"b\",\"c,d\"}\t{}\n");
    }

    #[test]
    fn empty_lists_can_be_null_or_empty() {
        let row = encode(|row| {
            row.text_array_or_null::<&str>(&[])
                .opt_text_array::<&str>(Some(&[]));
        });
        assert_eq!(row, "\\N\t{}\n");
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let row = encode(|row| {
            row.timestamp(1_700_000_000_123).opt_timestamp(None);
        });
        assert_eq!(row, "2023-11-14 22:13:20.123\t\\N\n");
    }

    #[test]
    fn copy_statements_quote_table_and_columns() {
        assert_eq!(
            PAIR.copy_statement(),
            "COPY \"Pair\" (\"a\", \"b\") FROM STDIN"
        );
    }
}
