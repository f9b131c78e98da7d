//! Result downloads: the next chunk or external link of a [`Cursor`], and — within
//! `download-window` — several at once: queued external links, and the JSON_ARRAY chunks after
//! the next one, requested together through [`Transport::send_all`] and taken in order. A piece
//! whose first attempt fails takes the one-at-a-time path with its retries and link refreshes,
//! so the window changes speed, never the result or the errors.

use super::{Chunk, Cursor, Format, Next};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::http::{HttpRequest, Method, Transport};
use crate::core::ipc::ArrowRows;
use crate::core::response::{self, ChunkBody, ExternalLink};
use crate::core::retry::Retry;
use crate::core::session::Session;

impl Cursor {
    /// Fetch the next piece: a pending external link, else the next chunk.
    pub(super) fn fetch<T: Transport>(&mut self, s: &mut Session<T>, deadline: u64) -> Result<()> {
        if s.transport.now_ms() >= deadline {
            let mut e = Error::new(
                ErrorKind::Timeout,
                "deadline passed while reading result chunks",
            );
            e.statement_id = Some(self.statement_id.clone());
            return Err(e);
        }
        let window = s.config.download_window as usize;
        if window > 1 && self.links.len() > 1 {
            return self.fetch_links(s, window, deadline);
        }
        if let Some(link) = self.links.pop_front() {
            return self.fetch_link(s, link, deadline);
        }
        let (path, index) = match std::mem::replace(&mut self.next, Next::Done) {
            Next::Done => return Ok(()),
            // Only reached with no rows buffered, so the chunk's rows were read and this was
            // replaced; kept as an error rather than trusted.
            Next::AfterRows => {
                return Err(self.err("next chunk unknown before its rows were read".into()));
            }
            Next::Link(l) => {
                if !l.starts_with('/') || l.starts_with("//") {
                    return Err(self.err(format!(
                        "unexpected next_chunk_internal_link {:?}",
                        l.chars().take(80).collect::<String>()
                    )));
                }
                // `/api/2.0/sql/statements/{id}/result/chunks/{n}`: the index must advance too.
                let path = l.split(['?', '#']).next().unwrap_or(&l);
                let index = path.rsplit('/').next().and_then(|n| n.parse::<u64>().ok());
                if let Some(i) = index {
                    self.advance_to(i)?;
                }
                (l, index)
            }
            Next::Index(i) => {
                self.advance_to(i)?;
                (self.chunk_path(i), Some(i))
            }
        };
        // JSON_ARRAY chunks carry their own rows (or one link each), so the ones after this
        // are fetched ahead by index; an Arrow chunk answers a batch of links instead.
        if let (Some(i), Some(total)) = (index, self.total_chunks)
            && window > 1
            && self.format == Format::Json
            && i + 1 < total
        {
            return self.fetch_chunks(s, path, i, window, deadline);
        }
        let body = self.get_chunk(s, &path, deadline)?;
        self.take_chunk(body, true)
    }

    /// `/api/2.0/sql/statements/{id}/result/chunks/{i}`.
    fn chunk_path(&self, i: u64) -> String {
        format!(
            "/api/2.0/sql/statements/{}/result/chunks/{i}",
            self.statement_id
        )
    }

    /// GET the chunk at `path` with retries.
    fn get_chunk<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        path: &str,
        deadline: u64,
    ) -> Result<Vec<u8>> {
        let mut stats = self.stats;
        let r = s.api(
            Method::Get,
            path,
            None,
            Retry::Idempotent,
            deadline,
            &mut stats,
        );
        self.stats = stats;
        Ok(r.map_err(|e| e.with_statement(Some(&self.statement_id)))?
            .body)
    }

    /// Take in a chunk body. `chained`: it says where the next chunk is (false for a chunk
    /// fetched ahead of its successor's request).
    fn take_chunk(&mut self, body: Vec<u8>, chained: bool) -> Result<()> {
        match response::parse_chunk_body(body)
            .map_err(|e| e.with_statement(Some(&self.statement_id)))?
        {
            ChunkBody::Parsed(chunk) if chained => self.absorb(chunk),
            ChunkBody::Parsed(chunk) => self.absorb_data(chunk),
            ChunkBody::Rows(rows) => {
                self.rows.push_back(Chunk::Json { rows, chained });
                if chained {
                    self.next = Next::AfterRows;
                }
                Ok(())
            }
        }
    }

    /// The GET of an external link: no Authorization, the link's own headers.
    fn link_request(&self, link: &ExternalLink) -> Result<HttpRequest> {
        let url = link
            .external_link
            .clone()
            .ok_or_else(|| self.err("external link without a URL".into()))?;
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(self.err("external link is not an http(s) URL".into()));
        }
        let mut req = HttpRequest::new(Method::Get, url);
        req.headers = link.http_headers.clone().unwrap_or_default();
        Ok(req)
    }

    /// Take in the body behind an external link.
    fn take_link_body(&mut self, body: Vec<u8>) -> Result<()> {
        let rows = match self.format {
            Format::Json => response::parse_external_rows(body).map(|rows| Chunk::Json {
                rows,
                chained: false,
            }),
            Format::Arrow { lz4 } => ArrowRows::from_body(body, lz4).map(Chunk::Arrow),
        };
        self.rows
            .push_back(rows.map_err(|e| e.with_statement(Some(&self.statement_id)))?);
        Ok(())
    }

    /// GET an external link without Authorization; on a 4xx (expired link) re-read its chunk
    /// for a fresh link, up to `max-attempts` times.
    fn fetch_link<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        link: ExternalLink,
        deadline: u64,
    ) -> Result<()> {
        self.fetch_link_after(s, link, 0, deadline)
    }

    /// [`Cursor::fetch_link`] with `refreshes` refreshes already spent on this chunk.
    fn fetch_link_after<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        mut link: ExternalLink,
        mut refreshes: u32,
        deadline: u64,
    ) -> Result<()> {
        loop {
            let req = self.link_request(&link)?;
            let mut stats = self.stats;
            let r = s.plain(&req, Retry::Idempotent, deadline, &mut stats);
            self.stats = stats;
            match r {
                Ok(resp) => return self.take_link_body(resp.body),
                Err(e)
                    if e.http_status.is_some_and(|st| (400..500).contains(&st))
                        && refreshes + 1 < s.config.max_attempts =>
                {
                    refreshes += 1;
                    link = self.refresh_link(s, &link, deadline)?;
                }
                // Still refused after refreshing: the storage keeps rejecting presigned links
                // (expired again, clock skew, a storage firewall) — not a missing grant.
                Err(mut e) if e.http_status.is_some_and(|st| (400..500).contains(&st)) => {
                    e.kind = ErrorKind::Server;
                    e.message = format!(
                        "external link of chunk {} still rejected after {refreshes} refreshes: {}",
                        link.chunk_index.map_or("?".into(), |i| i.to_string()),
                        e.message
                    );
                    return Err(e.with_statement(Some(&self.statement_id)));
                }
                Err(e) => return Err(e.with_statement(Some(&self.statement_id))),
            }
        }
    }

    /// A fresh link for `link`'s chunk (an expired link was refused): re-read the chunk.
    fn refresh_link<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        link: &ExternalLink,
        deadline: u64,
    ) -> Result<ExternalLink> {
        self.stats.retries += 1;
        let index = link
            .chunk_index
            .ok_or_else(|| self.err("expired external link without chunk_index".into()))?;
        let body = self.get_chunk(s, &self.chunk_path(index), deadline)?;
        let fresh = response::parse_chunk(body)?
            .external_links
            .and_then(|mut l| (!l.is_empty()).then(|| l.remove(0)))
            .ok_or_else(|| self.err("refreshed chunk has no external link".into()))?;
        s.debug(|| {
            format!(
                "statement {}: refreshed external link of chunk {index}",
                self.statement_id
            )
        });
        Ok(fresh)
    }

    /// Download up to `window` queued external links at once and take their bodies in order.
    fn fetch_links<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        window: usize,
        deadline: u64,
    ) -> Result<()> {
        let n = window.min(self.links.len());
        let links: Vec<ExternalLink> = self.links.drain(..n).collect();
        let reqs = links
            .iter()
            .map(|l| self.link_request(l))
            .collect::<Result<Vec<_>>>()?;
        let answers = s.first_attempts(reqs, deadline);
        for (link, answer) in links.into_iter().zip(answers) {
            match answer.map(|r| (r.status, r.body)) {
                Some((200..=299, body)) => self.take_link_body(body)?,
                // Refused (an expired link): refresh it first, as the one-at-a-time path would.
                Some((400..=499, _)) if s.config.max_attempts > 1 => {
                    let fresh = self.refresh_link(s, &link, deadline)?;
                    self.fetch_link_after(s, fresh, 1, deadline)?;
                }
                _ => self.fetch_link(s, link, deadline)?,
            }
        }
        Ok(())
    }

    /// Fetch chunk `i` (at `path`) and the chunks after it, up to `window` and the manifest's
    /// count, at once; take them in order, only the last one saying where the next chunk is.
    fn fetch_chunks<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        path: String,
        i: u64,
        window: usize,
        deadline: u64,
    ) -> Result<()> {
        let end = self
            .total_chunks
            .map_or(i + 1, |t| t.min(i.saturating_add(window as u64)));
        let paths: Vec<String> = std::iter::once(path)
            .chain((i + 1..end).map(|j| self.chunk_path(j)))
            .collect();
        let mut stats = self.stats;
        let reqs = paths
            .iter()
            .map(|p| s.api_get(p, deadline, &mut stats))
            .collect::<Result<Vec<_>>>();
        self.stats = stats;
        let reqs = reqs.map_err(|e| e.with_statement(Some(&self.statement_id)))?;
        let answers = s.first_attempts(reqs, deadline);
        let last = paths.len() - 1;
        for (k, (path, answer)) in paths.iter().zip(answers).enumerate() {
            if k > 0 {
                self.advance_to(i + k as u64)?;
            }
            let body = match answer {
                Some(r) if (200..300).contains(&r.status) => r.body,
                _ => self.get_chunk(s, path, deadline)?,
            };
            self.take_chunk(body, k == last)?;
        }
        Ok(())
    }
}
