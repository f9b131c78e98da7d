//! The only module touching `wasi:http`, clocks and random: [`WasiTransport`] implements the
//! core's [`Transport`] over `wasi:http/outgoing-handler`. Several requests can be in flight at
//! once ([`Transport::send_all`]): their answers are read together by polling every pending
//! pollable and the earliest deadline.

use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse,
    Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{InputStream, StreamError};

use crate::core::http::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use crate::core::url::Url;

/// Largest response body accepted, bytes: a guard that answers `connection` well before the
/// default 256 MiB guest memory limit would trap (an INLINE chunk is at most 25 MiB).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Most bytes per `write` of a request body (the host's `check-write` may permit fewer).
const WRITE_CHUNK: usize = 1 << 20;
/// Per-request connect timeout, ns.
const CONNECT_TIMEOUT_NS: u64 = 30_000_000_000;

/// The wasi-http transport; `log` goes to `wasi:logging` at debug level.
pub struct WasiTransport;

fn failed(message: String, maybe_sent: bool) -> TransportError {
    TransportError {
        message,
        maybe_sent,
        retryable: true,
        timed_out: false,
    }
}

/// The transport error of an `ErrorCode`.
fn code_error(code: &ErrorCode) -> TransportError {
    let retryable = !matches!(
        code,
        ErrorCode::HttpRequestDenied
            | ErrorCode::HttpRequestUriInvalid
            | ErrorCode::HttpRequestMethodInvalid
            | ErrorCode::TlsCertificateError
    );
    TransportError {
        message: describe(code),
        maybe_sent: maybe_sent(code),
        retryable,
        timed_out: matches!(
            code,
            ErrorCode::ConnectionTimeout
                | ErrorCode::ConnectionReadTimeout
                | ErrorCode::HttpResponseTimeout
        ),
    }
}

/// Whether a failure with `code` may have happened after the request reached the server.
fn maybe_sent(code: &ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::DnsTimeout
            | ErrorCode::DnsError(_)
            | ErrorCode::DestinationNotFound
            | ErrorCode::DestinationUnavailable
            | ErrorCode::DestinationIpProhibited
            | ErrorCode::DestinationIpUnroutable
            | ErrorCode::ConnectionRefused
            | ErrorCode::ConnectionTimeout
            | ErrorCode::TlsProtocolError
            | ErrorCode::TlsCertificateError
            | ErrorCode::TlsAlertReceived(_)
            | ErrorCode::HttpRequestDenied
            | ErrorCode::HttpRequestUriInvalid
            | ErrorCode::HttpRequestMethodInvalid
    )
}

fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::HttpRequestDenied => {
            "the host denied the outgoing request (not on its allow-list)".into()
        }
        ErrorCode::DnsError(p) => format!("DNS error {}", p.rcode.clone().unwrap_or_default()),
        ErrorCode::TlsCertificateError => {
            "TLS: the server's certificate is not trusted (TlsCertificateError); \
             trust its certificate authority in the host (e.g. --ca-cert or SSL_CERT_FILE)"
                .into()
        }
        ErrorCode::TlsProtocolError => "TLS handshake failed (TlsProtocolError)".into(),
        ErrorCode::TlsAlertReceived(a) => format!(
            "TLS alert from the server: {}",
            a.alert_message.clone().unwrap_or_default()
        ),
        other => format!("{other:?}"),
    }
}

/// The error of a request whose whole time (`req.timeout_ms`) ran out.
fn out_of_time(what: &str) -> TransportError {
    TransportError {
        message: format!("{what}: the request's time (what remained of the deadline) ran out"),
        maybe_sent: true,
        retryable: false,
        timed_out: true,
    }
}

/// Send `req`: the request line, headers and body go out now; the answer is read by [`run`].
fn start(req: &HttpRequest) -> Result<Flight, TransportError> {
    let url = Url::parse(&req.url).map_err(|e| TransportError {
        message: e.info.message,
        maybe_sent: false,
        retryable: false,
        timed_out: false,
    })?;
    let mut headers: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
        .collect();
    if let Some(a) = &req.authorization {
        headers.push(("authorization".into(), a.expose().as_bytes().to_vec()));
    }
    if matches!(req.method, Method::Post | Method::Put) || !req.body.is_empty() {
        headers.push((
            "content-length".into(),
            req.body.len().to_string().into_bytes(),
        ));
    }
    let fields = Fields::from_list(&headers).map_err(|e| TransportError {
        message: format!("invalid request header: {e:?}"),
        maybe_sent: false,
        retryable: false,
        timed_out: false,
    })?;
    let out = OutgoingRequest::new(fields);
    let method = match req.method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
        Method::Delete => WasiMethod::Delete,
        Method::Put => WasiMethod::Put,
    };
    let scheme = if url.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let ok = out.set_method(&method).is_ok()
        && out.set_scheme(Some(&scheme)).is_ok()
        && out.set_authority(Some(&url.authority)).is_ok()
        && out.set_path_with_query(Some(&url.path_and_query)).is_ok();
    if !ok {
        let message = "the host rejected the request line".to_string();
        return Err(TransportError {
            message,
            maybe_sent: false,
            retryable: false,
            timed_out: false,
        });
    }
    let body = out
        .body()
        .map_err(|()| failed("request body unavailable".into(), false))?;
    let options = RequestOptions::new();
    // The request's whole time: headers and every body byte must arrive before `end`. The
    // host's own timeouts are set too (hosts may refuse them; then only `end` applies).
    let timeout_ns = req.timeout_ms.map(|ms| ms.saturating_mul(1_000_000));
    let end = timeout_ns.map(|ns| monotonic_clock::now().saturating_add(ns));
    let connect_ns = timeout_ns.map_or(CONNECT_TIMEOUT_NS, |ns| ns.min(CONNECT_TIMEOUT_NS));
    let _ = options.set_connect_timeout(Some(connect_ns));
    if let Some(ns) = timeout_ns {
        let _ = options.set_first_byte_timeout(Some(ns));
        let _ = options.set_between_bytes_timeout(Some(ns));
    }
    let fut = outgoing_handler::handle(out, Some(options)).map_err(|c| code_error(&c))?;
    let write_error = write_body(body, &req.body, end).err();
    let mut flight = Flight {
        end,
        stage: Stage::Headers {
            ready: fut.subscribe(),
            fut,
        },
    };
    if let Some(write_error) = write_error {
        // The response future often carries the real reason (e.g. HttpRequestDenied).
        run(std::slice::from_mut(&mut flight));
        return Err(match flight.stage {
            Stage::Done(Err(e)) => e,
            _ => failed(write_error, true),
        });
    }
    Ok(flight)
}

/// Write the request body as fast as the host takes it: as many bytes per `write` as
/// `check-write` permits (at most [`WRITE_CHUNK`]), waiting on the stream's pollable — and never
/// past `end` — when it permits none.
fn write_body(body: OutgoingBody, bytes: &[u8], end: Option<u64>) -> Result<(), String> {
    {
        let stream = body
            .write()
            .map_err(|()| "request body stream unavailable".to_string())?;
        let ready = stream.subscribe();
        let failed = |e: StreamError| format!("writing the request body failed: {e:?}");
        let wait = |ready: &Pollable| {
            let timer = end.map(monotonic_clock::subscribe_instant);
            let fired = match &timer {
                Some(t) => poll::poll(&[ready, t]),
                None => poll::poll(&[ready]),
            };
            if fired.contains(&0) {
                Ok(())
            } else {
                Err("the request's time ran out while sending its body".to_string())
            }
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            let permit = stream.check_write().map_err(failed)?;
            if permit == 0 {
                wait(&ready)?;
                continue;
            }
            let n = rest.len().min(WRITE_CHUNK).min(permit as usize);
            stream.write(&rest[..n]).map_err(failed)?;
            rest = &rest[n..];
        }
        if !bytes.is_empty() {
            match stream.flush() {
                Ok(()) | Err(StreamError::Closed) => {}
                Err(e) => return Err(failed(e)),
            }
            // Flushed once `check-write` permits again; a host that has taken the whole body
            // (its content-length) may close the stream instead.
            loop {
                match stream.check_write() {
                    Ok(0) => wait(&ready)?,
                    Ok(_) | Err(StreamError::Closed) => break,
                    Err(e) => return Err(failed(e)),
                }
            }
        }
        drop(ready);
    }
    OutgoingBody::finish(body, None)
        .map_err(|e| format!("finishing the request body failed: {e:?}"))
}

/// The error of a response body over [`MAX_BODY`].
fn too_large() -> TransportError {
    TransportError {
        message: format!("response body over {} MiB", MAX_BODY >> 20),
        maybe_sent: true,
        retryable: false,
        timed_out: false,
    }
}

/// The `content-length` of a response, when it has a valid one.
fn headers_len(headers: &[(String, String)]) -> Option<usize> {
    headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// A request in flight and how far its answer has been read.
struct Flight {
    /// The monotonic instant (ns) by which the whole answer must have arrived.
    end: Option<u64>,
    stage: Stage,
}

/// Where an answer is. Fields are declared child resource first, so they drop in WASI order.
enum Stage {
    /// Waiting for the response headers.
    Headers {
        ready: Pollable,
        fut: FutureIncomingResponse,
    },
    /// Reading the body.
    Body {
        ready: Pollable,
        stream: InputStream,
        incoming: IncomingBody,
        _response: IncomingResponse,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The outcome.
    Done(Result<HttpResponse, TransportError>),
}

impl Flight {
    fn ready(&self) -> Option<&Pollable> {
        match &self.stage {
            Stage::Headers { ready, .. } | Stage::Body { ready, .. } => Some(ready),
            Stage::Done(_) => None,
        }
    }

    /// The outcome once [`run`] is done with it.
    fn outcome(self) -> Result<HttpResponse, TransportError> {
        match self.stage {
            Stage::Done(r) => r,
            _ => Err(failed("the answer was not read".into(), true)),
        }
    }

    /// Out of time: a stalled or trickling answer ends at `end`.
    fn expire(&mut self) {
        let what = match self.stage {
            Stage::Headers { .. } => "no response headers",
            Stage::Body { .. } => "the response body did not arrive in time",
            Stage::Done(_) => return,
        };
        self.stage = Stage::Done(Err(out_of_time(what)));
    }

    /// Take what is ready: the headers, or the next piece of the body.
    fn advance(&mut self) {
        let stage = std::mem::replace(
            &mut self.stage,
            Stage::Done(Err(failed(String::new(), true))),
        );
        self.stage = match stage {
            Stage::Headers { ready, fut } => {
                drop(ready);
                match fut.get() {
                    Some(Ok(Ok(r))) => begin_body(r),
                    Some(Ok(Err(code))) => Stage::Done(Err(code_error(&code))),
                    Some(Err(())) => {
                        Stage::Done(Err(failed("response already taken".into(), true)))
                    }
                    None => Stage::Headers {
                        ready: fut.subscribe(),
                        fut,
                    },
                }
            }
            Stage::Body {
                ready,
                stream,
                incoming,
                _response,
                status,
                headers,
                mut body,
            } => match stream.read(64 * 1024) {
                Ok(bytes) => {
                    body.extend_from_slice(&bytes);
                    if body.len() > MAX_BODY {
                        Stage::Done(Err(too_large()))
                    } else {
                        Stage::Body {
                            ready,
                            stream,
                            incoming,
                            _response,
                            status,
                            headers,
                            body,
                        }
                    }
                }
                Err(StreamError::Closed) => {
                    drop(ready);
                    drop(stream);
                    drop(incoming);
                    Stage::Done(Ok(HttpResponse {
                        status,
                        headers,
                        body,
                    }))
                }
                Err(StreamError::LastOperationFailed(e)) => Stage::Done(Err(failed(
                    format!("reading the response failed: {}", e.to_debug_string()),
                    true,
                ))),
            },
            done => done,
        };
    }
}

/// The response headers are in: check the declared length and open the body.
fn begin_body(resp: IncomingResponse) -> Stage {
    let status = resp.status();
    let headers: Vec<(String, String)> = resp
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| {
            (
                n.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    let declared = headers_len(&headers);
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Stage::Done(Err(too_large()));
    }
    let Ok(incoming) = resp.consume() else {
        return Stage::Done(Err(failed("response body unavailable".into(), true)));
    };
    let Ok(stream) = incoming.stream() else {
        return Stage::Done(Err(failed("response body stream unavailable".into(), true)));
    };
    Stage::Body {
        ready: stream.subscribe(),
        stream,
        incoming,
        _response: resp,
        status,
        headers,
        body: Vec::with_capacity(declared.unwrap_or(0)),
    }
}

/// Read every answer of `flights` at once: wait on all their pollables (and the earliest
/// deadline), advance whichever is ready, until each is done or out of time.
fn run(flights: &mut [Flight]) {
    loop {
        let now = monotonic_clock::now();
        for f in flights.iter_mut() {
            if f.end.is_some_and(|end| now >= end) {
                f.expire();
            }
        }
        let pending: Vec<usize> = (0..flights.len())
            .filter(|&i| flights[i].ready().is_some())
            .collect();
        if pending.is_empty() {
            return;
        }
        let earliest = pending.iter().filter_map(|&i| flights[i].end).min();
        let timer = earliest.map(monotonic_clock::subscribe_instant);
        let fired = {
            let mut list: Vec<&Pollable> =
                pending.iter().filter_map(|&i| flights[i].ready()).collect();
            if let Some(t) = &timer {
                list.push(t);
            }
            poll::poll(&list)
        };
        drop(timer);
        for k in fired {
            if let Some(&i) = pending.get(k as usize) {
                flights[i].advance();
            }
        }
    }
}

/// Send every request at once and read the answers together; outcomes in request order.
fn send_all(reqs: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
    let mut out: Vec<Option<Result<HttpResponse, TransportError>>> = Vec::with_capacity(reqs.len());
    let (mut flights, mut slots) = (Vec::new(), Vec::new());
    for (i, req) in reqs.iter().enumerate() {
        match start(req) {
            Ok(f) => {
                flights.push(f);
                slots.push(i);
                out.push(None);
            }
            Err(e) => out.push(Some(Err(e))),
        }
    }
    run(&mut flights);
    for (f, i) in flights.into_iter().zip(slots) {
        out[i] = Some(f.outcome());
    }
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Err(failed("the request was not started".into(), false))))
        .collect()
}

impl Transport for WasiTransport {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut flight = start(req)?;
        run(std::slice::from_mut(&mut flight));
        flight.outcome()
    }

    fn send_all(&mut self, reqs: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        send_all(reqs)
    }

    fn now_ms(&self) -> u64 {
        wasi::clocks::monotonic_clock::now() / 1_000_000
    }

    fn sleep_ms(&mut self, ms: u64) {
        if ms > 0 {
            wasi::clocks::monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
        }
    }

    fn random(&mut self) -> u64 {
        wasi::random::random::get_random_u64()
    }

    fn log(&mut self, message: &str) {
        use crate::bindings::wasi::logging::logging::{Level, log};
        log(Level::Debug, "openmatch-databricks", message);
    }
}
