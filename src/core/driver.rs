//! The statement state machine: submit, poll to a terminal state or the deadline (then cancel),
//! and follow result chunks and external links, several at a time within `download-window`
//! ([`download`]).

use std::collections::VecDeque;

use super::columns::ColumnBatch;
use super::config::ResultFormat;
use super::error::{Error, ErrorKind, Result};
use super::http::{Method, Transport};
use super::ipc::ArrowRows;
use super::json_rows::JsonRows;
use super::request::{self, ResultShape};
use super::response::{self, ExternalLink, ResultData, State, StatementResponse};
use super::retry::{Retry, poll_interval_ms};
use super::session::{Session, Stats};
use super::sink::{RowSink, Sink};
use super::value::{Column, Kind, ParamSpec, Value};

#[path = "download.rs"]
mod download;

/// One chunk's rows, not all decoded yet.
#[derive(Debug)]
enum Chunk {
    /// JSON_ARRAY text, read row by row.
    Json {
        /// The rows.
        rows: JsonRows,
        /// Whether the members after the rows say where the next chunk is (false for a chunk
        /// fetched ahead, whose successor is already on its way).
        chained: bool,
    },
    /// An Arrow IPC stream, read record batch by record batch.
    Arrow(ArrowRows),
}

/// How the bodies of a result's chunks are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// JSON_ARRAY.
    Json,
    /// ARROW_STREAM, each chunk one LZ4 frame when `lz4`.
    Arrow {
        /// `manifest.result_compression` is `LZ4_FRAME`.
        lz4: bool,
    },
}

/// Where the next chunk of a result comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    /// No more chunks.
    Done,
    /// `next_chunk_internal_link`, followed verbatim.
    Link(String),
    /// `next_chunk_index`, fetched at `/result/chunks/{n}`.
    Index(u64),
    /// Told by the members after the current chunk's rows, parsed once they have been read.
    AfterRows,
}

/// An open result: columns, the not yet decoded rows of the current chunk, and how to get the
/// next one.
#[derive(Debug)]
pub struct Cursor {
    /// The statement id.
    pub statement_id: String,
    /// Result columns.
    pub columns: Vec<Column>,
    /// How each column decodes.
    kinds: Vec<Kind>,
    /// Rows delivered so far.
    pub delivered: u64,
    /// Requests retried so far.
    pub stats: Stats,
    /// Monotonic ms when the statement was submitted.
    pub started_ms: u64,
    total_rows: Option<u64>,
    total_chunks: Option<u64>,
    /// Chunks whose rows are not all decoded yet (usually one).
    rows: VecDeque<Chunk>,
    /// How chunk bodies are encoded.
    format: Format,
    /// Reused for cells with escapes.
    scratch: String,
    links: VecDeque<ExternalLink>,
    next: Next,
    last_index: Option<u64>,
}

/// Whether `id` looks like a statement id (safe to put in a path).
pub fn valid_statement_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Submit `sql` with `params` asking for a JSON_ARRAY result (the connection's disposition)
/// and wait for it to finish (or fail, or pass `deadline`): what writes and their probes run.
/// `submit` says how safe re-sending the statement is: [`Retry::Submit`] for anything that may
/// write, [`Retry::Idempotent`] for statements whose repetition changes nothing.
pub fn run<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    params: &[ParamSpec],
    submit: Retry,
    deadline: u64,
) -> Result<Cursor> {
    let shape = ResultShape::json(&s.config);
    run_as(s, sql, params, submit, deadline, shape)
}

/// Like [`run`], for a read: the result format follows `result-format`
/// ([`ResultShape::read`]). Under `auto`, a server that refuses the Arrow request as a bad
/// request (HTTP 400 naming the disposition, format or compression: no statement was created)
/// gets the JSON_ARRAY request instead, and this connection asks for JSON_ARRAY from then on.
pub fn read<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    params: &[ParamSpec],
    submit: Retry,
    deadline: u64,
) -> Result<Cursor> {
    let shape = ResultShape::read(&s.config, s.arrow_refused);
    match run_as(s, sql, params, submit, deadline, shape) {
        Err(e)
            if shape == ResultShape::Arrow
                && s.config.result_format == ResultFormat::Auto
                && refuses_arrow(&e) =>
        {
            s.arrow_refused = true;
            s.debug(|| {
                format!(
                    "ARROW_STREAM refused ({}); asking for JSON_ARRAY",
                    e.message
                )
            });
            let shape = ResultShape::read(&s.config, true);
            run_as(s, sql, params, submit, deadline, shape)
        }
        r => r,
    }
}

/// Whether `e` is a server's refusal of an ARROW_STREAM request itself (rather than of the
/// statement): HTTP 400 naming the disposition, the format or the compression.
fn refuses_arrow(e: &Error) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.http_status == Some(400)
        && [
            "disposition",
            "arrow_stream",
            "result_compression",
            "lz4_frame",
        ]
        .iter()
        .any(|w| m.contains(w))
}

/// Submit `sql` asking for `shape` and wait for it (see [`run`]).
fn run_as<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    params: &[ParamSpec],
    submit: Retry,
    deadline: u64,
    shape: ResultShape,
) -> Result<Cursor> {
    let started_ms = s.transport.now_ms();
    let mut stats = Stats::default();
    let remaining = deadline.saturating_sub(started_ms);
    let body = request::statement_body(&s.config, sql, params, remaining, shape);
    let resp = s.api(
        Method::Post,
        "/api/2.0/sql/statements",
        Some(body),
        submit,
        deadline,
        &mut stats,
    )?;
    let (mut parsed, mut rows) = response::parse_statement_body(resp.body)?;
    let id = parsed
        .statement_id
        .clone()
        .filter(|i| valid_statement_id(i));
    let Some(id) = id else {
        let state = parsed.state()?;
        if state == State::Running || state == State::Succeeded {
            return Err(Error::server(
                "statement response has no valid statement_id",
            ));
        }
        return Err(response::statement_error(&parsed, &state));
    };
    s.debug(|| format!("statement {id} submitted"));
    let mut polls = 0;
    loop {
        let state = parsed.state().map_err(|e| e.with_statement(Some(&id)))?;
        match state {
            State::Running => {}
            State::Succeeded => break,
            _ => return Err(response::statement_error(&parsed, &state).with_statement(Some(&id))),
        }
        let now = s.transport.now_ms();
        if now >= deadline {
            cancel(s, &id);
            // The statement may have finished before the cancel landed: then it counts.
            let last = final_state(s, &id);
            match last.as_ref().map(StatementResponse::state) {
                Some(Ok(State::Succeeded)) => {
                    parsed = last.unwrap_or_default();
                    rows = None;
                    break;
                }
                Some(Ok(State::Canceled | State::Failed | State::Closed)) => {
                    return Err(timeout(s, &id, "it was canceled"));
                }
                _ => {
                    let mut e = timeout(s, &id, "cancel was requested but its outcome is unknown");
                    e.outcome_unknown = true;
                    return Err(e);
                }
            }
        }
        s.transport
            .sleep_ms(poll_interval_ms(polls).min(deadline - now));
        polls += 1;
        let path = format!("/api/2.0/sql/statements/{id}");
        // The poll deadline is a little past the call's so a slow poll still reports as timeout.
        match s.api(
            Method::Get,
            &path,
            None,
            Retry::Idempotent,
            deadline.saturating_add(1),
            &mut stats,
        ) {
            Ok(r) => {
                (parsed, rows) = response::parse_statement_body(r.body)
                    .map_err(|e| e.with_statement(Some(&id)))?
            }
            // The statement exists and polling is idempotent: ride out a flaky network until
            // the deadline rather than abandon a statement (maybe a write) in an unknown state.
            Err(e) if transient(&e) => {
                stats.retries += 1;
                s.debug(|| format!("statement {id}: poll failed ({}), polling on", e.message));
            }
            Err(e) => {
                cancel(s, &id);
                return Err(e.with_statement(Some(&id)));
            }
        }
    }
    let total_rows = parsed.manifest.as_ref().and_then(|m| m.total_row_count);
    let total_chunks = parsed.manifest.as_ref().and_then(|m| m.total_chunk_count);
    let manifest = parsed.manifest.as_ref();
    let format = match manifest.and_then(|m| m.format.as_deref()) {
        Some("ARROW_STREAM") => true,
        Some(_) => false,
        None => shape == ResultShape::Arrow,
    };
    let format = if format {
        Format::Arrow {
            lz4: manifest.and_then(|m| m.result_compression.as_deref()) == Some("LZ4_FRAME"),
        }
    } else {
        Format::Json
    };
    let columns = parsed.columns();
    let mut cursor = Cursor {
        statement_id: id,
        kinds: columns.iter().map(Column::kind).collect(),
        columns,
        delivered: 0,
        stats,
        started_ms,
        total_rows,
        total_chunks,
        rows: VecDeque::new(),
        format,
        scratch: String::new(),
        links: VecDeque::new(),
        next: Next::Done,
        last_index: None,
    };
    let StatementResponse { result, .. } = parsed;
    cursor.absorb(result.unwrap_or_default())?;
    if let Some(rows) = rows {
        // Never `[]` (parse_statement_body parses those whole). Where the next chunk is
        // follows the rows: known once they have been read.
        cursor.rows.push_back(Chunk::Json {
            rows,
            chained: true,
        });
        cursor.next = Next::AfterRows;
    }
    if cursor.exhausted() && total_rows.is_some_and(|t| t > 0) {
        // Rows announced but no first chunk inline: read chunk 0 explicitly.
        cursor.next = Next::Index(0);
    }
    let ms = s.transport.now_ms().saturating_sub(started_ms);
    s.debug(|| {
        format!(
            "statement {} succeeded in {ms} ms after {polls} polls, {} retries",
            cursor.statement_id, cursor.stats.retries
        )
    });
    Ok(cursor)
}

/// The `timeout` error of statement `id`.
fn timeout<T: Transport>(s: &Session<T>, id: &str, outcome: &str) -> Error {
    let mut e = Error::new(
        ErrorKind::Timeout,
        format!(
            "statement did not finish within {} ms; {outcome}",
            s.config.timeout_ms
        ),
    );
    e.statement_id = Some(id.to_owned());
    e
}

/// Time given to the clean-up requests after a call's deadline (cancel, one last look, close),
/// ms: short, so an expired call returns within this of its deadline.
const CLEANUP_MS: u64 = 2_000;

/// One look at statement `id` (after a cancel), without retries.
fn final_state<T: Transport>(s: &mut Session<T>, id: &str) -> Option<StatementResponse> {
    let path = format!("/api/2.0/sql/statements/{id}");
    let deadline = s.transport.now_ms().saturating_add(CLEANUP_MS);
    let r = s
        .api(
            Method::Get,
            &path,
            None,
            Retry::Never,
            deadline,
            &mut Stats::default(),
        )
        .ok()?;
    response::parse_statement(r.body).ok()
}

/// Whether a failed request may succeed when repeated (connection failure, 429, 5xx).
fn transient(e: &Error) -> bool {
    e.kind == ErrorKind::Connection || e.http_status.is_some_and(|st| st == 429 || st >= 500)
}

/// Best-effort cancel of statement `id` (errors ignored).
pub fn cancel<T: Transport>(s: &mut Session<T>, id: &str) {
    let path = format!("/api/2.0/sql/statements/{id}/cancel");
    let deadline = s.transport.now_ms().saturating_add(CLEANUP_MS);
    let r = s.api(
        Method::Post,
        &path,
        Some(b"{}".to_vec()),
        Retry::Never,
        deadline,
        &mut Stats::default(),
    );
    s.debug(|| {
        format!(
            "statement {id} cancel sent ({})",
            if r.is_ok() { "ok" } else { "failed" }
        )
    });
}

/// Best-effort close (`DELETE`) of statement `id`.
pub fn close<T: Transport>(s: &mut Session<T>, id: &str) {
    let path = format!("/api/2.0/sql/statements/{id}");
    let deadline = s.transport.now_ms().saturating_add(CLEANUP_MS);
    let _ = s.api(
        Method::Delete,
        &path,
        None,
        Retry::Never,
        deadline,
        &mut Stats::default(),
    );
    s.debug(|| format!("statement {id} closed"));
}

impl Cursor {
    /// Take in a result chunk: its rows or links, and where the next chunk is.
    fn absorb(&mut self, r: ResultData) -> Result<()> {
        if let Some(i) = r.chunk_index {
            self.last_index = Some(i);
        }
        let mut next_link = r.next_chunk_internal_link.clone();
        let mut next_index = r.next_chunk_index;
        if let Some(last) = r.external_links.as_ref().and_then(|l| l.last()) {
            next_link = next_link.or_else(|| last.next_chunk_internal_link.clone());
            next_index = next_index.or(last.next_chunk_index);
        }
        self.absorb_data(r)?;
        self.next = match (next_link, next_index) {
            (Some(l), _) if !l.is_empty() => Next::Link(l),
            (_, Some(i)) => Next::Index(i),
            _ => Next::Done,
        };
        Ok(())
    }

    /// Take in a chunk's rows and links only (a chunk fetched ahead: where the next chunk is
    /// is already known).
    fn absorb_data(&mut self, r: ResultData) -> Result<()> {
        if let Some(rows) = r.data_array.filter(|rows| !rows.has_no_rows()) {
            self.rows.push_back(Chunk::Json {
                rows,
                chained: false,
            });
        }
        if let Some(bytes) = r.attachment.filter(|b| !b.is_empty()) {
            let lz4 = matches!(self.format, Format::Arrow { lz4: true });
            let rows = ArrowRows::from_body(bytes, lz4)
                .map_err(|e| e.with_statement(Some(&self.statement_id)))?;
            self.rows.push_back(Chunk::Arrow(rows));
        }
        if let Some(links) = r.external_links {
            self.links.extend(links);
        }
        Ok(())
    }

    /// A chunk chain must make progress: each next index past the last one read, and within
    /// the manifest's `total_chunk_count`. A repeating or backwards chain would never end.
    /// Records `next` as read, so a chunk that omits its `chunk_index` is still counted.
    fn advance_to(&mut self, next: u64) -> Result<()> {
        if self.last_index.is_some_and(|last| next <= last) {
            return Err(self.err(format!("next chunk index {next} does not advance")));
        }
        if let Some(total) = self.total_chunks.filter(|&t| next >= t) {
            return Err(self.err(format!(
                "next chunk index {next} is past the manifest's {total} chunks"
            )));
        }
        self.last_index = Some(next);
        Ok(())
    }

    fn err(&self, message: String) -> Error {
        Error::server(message).with_statement(Some(&self.statement_id))
    }

    /// Whether every row has been delivered.
    pub fn exhausted(&self) -> bool {
        self.rows.is_empty() && self.links.is_empty() && self.next == Next::Done
    }

    /// Up to `max` more decoded rows, fetching further chunks only while fewer than `max` are
    /// decoded, so memory holds at most `max` decoded rows plus one chunk's text. Fewer than
    /// `max` rows means the result is exhausted; an empty result means the end.
    pub fn next_rows<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        max: usize,
        deadline: u64,
    ) -> Result<Vec<Vec<Value>>> {
        let mut sink = RowSink {
            rows: Vec::with_capacity(max.min(4096)),
            row: Vec::with_capacity(self.columns.len()),
        };
        self.next_into(s, &mut sink, max, deadline)?;
        Ok(sink.rows)
    }

    /// Like [`Cursor::next_rows`], in column-major form.
    pub fn next_columns<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        max: usize,
        deadline: u64,
    ) -> Result<ColumnBatch> {
        // Room for a typical batch up front (a chunk is ~100k rows at most in practice).
        let mut batch = ColumnBatch::new(&self.kinds, max.min(1 << 16));
        self.next_into(s, &mut batch, max, deadline)?;
        Ok(batch)
    }

    /// Every remaining row, decoding chunk by chunk so only one chunk's text is held.
    pub fn all_rows<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        deadline: u64,
    ) -> Result<Vec<Vec<Value>>> {
        let mut all = Vec::new();
        loop {
            let batch = self.next_rows(s, usize::MAX, deadline)?;
            if batch.is_empty() {
                return Ok(all);
            }
            all.extend(batch);
        }
    }

    /// Decode up to `max` rows into `sink`, fetching chunks as needed; once everything is
    /// delivered, check the manifest's row count.
    fn next_into<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        sink: &mut impl Sink,
        max: usize,
        deadline: u64,
    ) -> Result<()> {
        if self.exhausted()
            && let Some(total) = self.total_rows.filter(|&t| t != self.delivered)
        {
            return Err(self.err(format!(
                "result has {} rows but the manifest announced {total}",
                self.delivered
            )));
        }
        loop {
            self.decode_into(sink, max)?;
            if sink.rows() >= max || self.fetched_all() {
                return Ok(());
            }
            self.fetch(s, deadline)?;
        }
    }

    /// Whether nothing is left to fetch (rows may still be buffered).
    fn fetched_all(&self) -> bool {
        self.links.is_empty() && self.next == Next::Done
    }

    /// Decode buffered rows into `sink` until it holds `max` rows or the buffered chunks end.
    fn decode_into(&mut self, sink: &mut impl Sink, max: usize) -> Result<()> {
        let width = self.columns.len();
        while sink.rows() < max {
            let chunk = match self.rows.front_mut() {
                None => return Ok(()),
                Some(Chunk::Json { rows, .. }) => rows,
                Some(Chunk::Arrow(rows)) => {
                    let id = Some(self.statement_id.as_str());
                    let Some((batch, row)) = rows.current().map_err(|e| e.with_statement(id))?
                    else {
                        self.rows.pop_front();
                        continue;
                    };
                    if batch.num_columns() != width {
                        return Err(Error::server(format!(
                            "Arrow result has {} columns, the schema {width}",
                            batch.num_columns()
                        ))
                        .with_statement(id));
                    }
                    let n = (batch.num_rows() - row).min(max - sink.rows());
                    let delivered = self.delivered + n as u64;
                    if let Some(total) = self.total_rows.filter(|&t| delivered > t) {
                        return Err(Error::server(format!(
                            "result has more rows than the {total} the manifest announced"
                        ))
                        .with_statement(id));
                    }
                    sink.arrow(batch, row, n, &self.columns, &self.kinds)
                        .map_err(|e| e.with_statement(id))?;
                    rows.advance(n);
                    self.delivered = delivered;
                    continue;
                }
            };
            let mut failed = None;
            let (columns, kinds) = (&self.columns, &self.kinds);
            let cells = chunk.next_row(&mut self.scratch, |i, cell| {
                if failed.is_some() {
                    return;
                }
                if let (Some(c), Some(k)) = (columns.get(i), kinds.get(i))
                    && let Err(e) = sink.cell(i, *k, c, cell)
                {
                    failed = Some(e);
                }
            });
            let cells = cells.map_err(|e| e.with_statement(Some(&self.statement_id)))?;
            let Some(cells) = cells else {
                // A chunk read to its end: what follows its rows says where the next one is.
                let rest = match self.rows.pop_front() {
                    Some(Chunk::Json {
                        rows,
                        chained: true,
                    }) => rows.rest_of_object(),
                    _ => None,
                };
                if let Some(rest) = rest {
                    let chunk = response::parse_result_prefix(&rest)
                        .map_err(|e| e.with_statement(Some(&self.statement_id)))?;
                    self.absorb(chunk)?;
                }
                continue;
            };
            if cells != width {
                return Err(self.err(format!(
                    "result row has {cells} cells, the schema {width} columns"
                )));
            }
            if let Some(e) = failed {
                return Err(e.with_statement(Some(&self.statement_id)));
            }
            sink.end_row();
            self.delivered += 1;
            if let Some(total) = self.total_rows.filter(|&t| self.delivered > t) {
                // A chain that keeps going past the manifest is refused as it happens.
                return Err(self.err(format!(
                    "result has more rows than the {total} the manifest announced"
                )));
            }
        }
        Ok(())
    }
}
