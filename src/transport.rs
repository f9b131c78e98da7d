//! The only module touching `wasi:http`, clocks and random: [`WasiTransport`] implements the
//! core's [`Transport`] over `wasi:http/outgoing-handler`.

use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingResponse, Method as WasiMethod,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::StreamError;

use crate::core::http::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use crate::core::url::Url;

/// Largest response body accepted, bytes: a guard that answers `connection` well before the
/// default 256 MiB guest memory limit would trap (an INLINE chunk is at most 25 MiB).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Most bytes per `blocking-write-and-flush` (the WASI limit is 4096).
const WRITE_CHUNK: usize = 4096;
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

/// Block until `ready` fires or the monotonic clock reaches `end` (ns); false on the clock.
fn ready_before(ready: &Pollable, end: Option<u64>) -> bool {
    let Some(end) = end else {
        ready.block();
        return true;
    };
    let timer = monotonic_clock::subscribe_instant(end);
    let fired = poll::poll(&[ready, &timer]);
    fired.contains(&0)
}

/// Wait for the response future (until `end`, ns) and unwrap its nested results.
fn await_response(
    fut: &FutureIncomingResponse,
    end: Option<u64>,
) -> Result<IncomingResponse, TransportError> {
    if !ready_before(&fut.subscribe(), end) {
        return Err(out_of_time("no response headers"));
    }
    match fut.get() {
        Some(Ok(Ok(r))) => Ok(r),
        Some(Ok(Err(code))) => Err(code_error(&code)),
        Some(Err(())) => Err(failed("response already taken".into(), true)),
        None => Err(failed("response not ready after waiting".into(), true)),
    }
}

fn send(req: &HttpRequest) -> Result<HttpResponse, TransportError> {
    let url = Url::parse(&req.url).map_err(|e| TransportError {
        message: e.message,
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
    if req.method == Method::Post || !req.body.is_empty() {
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
    if let Err(write_error) = write_body(body, &req.body) {
        // The response future often carries the real reason (e.g. HttpRequestDenied).
        return Err(match await_response(&fut, end) {
            Err(e) => e,
            Ok(_) => failed(write_error, true),
        });
    }
    let resp = await_response(&fut, end)?;
    read_response(resp, end)
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    {
        let stream = body
            .write()
            .map_err(|()| "request body stream unavailable".to_string())?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the request body failed: {e:?}"))?;
        }
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

fn read_response(resp: IncomingResponse, end: Option<u64>) -> Result<HttpResponse, TransportError> {
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
        return Err(too_large());
    }
    let incoming = resp
        .consume()
        .map_err(|()| failed("response body unavailable".into(), true))?;
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    {
        let stream = incoming
            .stream()
            .map_err(|()| failed("response body stream unavailable".into(), true))?;
        let readable = stream.subscribe();
        loop {
            // A body trickled byte by byte still ends at `end`.
            if !ready_before(&readable, end) {
                return Err(out_of_time("the response body did not arrive in time"));
            }
            match stream.read(64 * 1024) {
                Ok(bytes) => {
                    body.extend_from_slice(&bytes);
                    if body.len() > MAX_BODY {
                        return Err(too_large());
                    }
                }
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(failed(
                        format!("reading the response failed: {}", e.to_debug_string()),
                        true,
                    ));
                }
            }
        }
    }
    drop(incoming);
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

impl Transport for WasiTransport {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        send(req)
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
