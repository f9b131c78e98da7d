//! Outbound HTTP(S) for tenants: which certificate authorities a tenant trusts, and how one
//! request is sent (a TCP connection, TLS when `https`, HTTP/1.1, wasi-http's timeouts).
//!
//! The TLS client configuration is built once, with the `ring` crypto provider chosen
//! explicitly: rustls then never consults the process-wide default provider, so no embedder can
//! hit its "cannot determine the process-level CryptoProvider" panic, whatever other crates in
//! the process enable.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use crate::error::Error;

/// The certificate authorities a tenant trusts for `https`: the Mozilla root set (webpki-roots)
/// plus any extra CA certificates (e.g. a company proxy, or a test CA). Cheap to clone.
#[derive(Clone)]
pub struct TlsTrust {
    config: Arc<rustls::ClientConfig>,
    extra: usize,
}

impl std::fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTrust").field("extra_cas", &self.extra).finish()
    }
}

impl Default for TlsTrust {
    fn default() -> TlsTrust {
        TlsTrust::webpki()
    }
}

impl TlsTrust {
    /// The Mozilla root set only (built once per process).
    pub fn webpki() -> TlsTrust {
        static ROOTS: OnceLock<TlsTrust> = OnceLock::new();
        // Roots-only with ring's default protocol versions: nothing here depends on input.
        ROOTS.get_or_init(|| TlsTrust::build(Vec::new()).expect("ring supports TLS 1.2 and 1.3")).clone()
    }

    /// The Mozilla roots plus every CA certificate in a PEM file (`--ca-cert`, `SSL_CERT_FILE`).
    pub fn with_pem_file(path: &Path) -> Result<TlsTrust, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::invalid_input(format!("cannot read CA certificates {}: {e}", path.display())))?;
        TlsTrust::with_pem(&bytes).map_err(|e| Error::invalid_input(format!("{}: {}", path.display(), e.text())))
    }

    /// The Mozilla roots plus every CA certificate in PEM text.
    pub fn with_pem(pem: &[u8]) -> Result<TlsTrust, Error> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::invalid_input(format!("malformed PEM CA certificates: {e}")))?;
        if certs.is_empty() {
            return Err(Error::invalid_input("no CA certificate (-----BEGIN CERTIFICATE-----) in the PEM text"));
        }
        TlsTrust::build(certs)
    }

    /// Extra CA certificates trusted beyond the Mozilla roots.
    pub fn extra_cas(&self) -> usize {
        self.extra
    }

    fn build(extra: Vec<CertificateDer<'static>>) -> Result<TlsTrust, Error> {
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let count = extra.len();
        for cert in extra {
            roots
                .add(cert)
                .map_err(|e| Error::invalid_input(format!("unusable CA certificate: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::invalid_input(format!("TLS configuration: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsTrust { config: Arc::new(config), extra: count })
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

/// What a send returns to wasi-http: the response and the connection's I/O future.
pub(crate) type Sent = (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>);

/// Send one request on a new connection, with wasi-http's three timeouts (defaults 600 s, as
/// wasmtime's own sender). TLS failures are reported as `TlsCertificateError` (the server's
/// certificate is not trusted) or `TlsProtocolError`, so the guest can say "TLS".
pub(crate) async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: &TlsTrust,
) -> Result<Sent, HttpError> {
    let uri = request.uri().clone();
    let use_tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let authority = uri.authority().ok_or(HttpError::HttpRequestUriInvalid)?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = authority.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
    let timeout = |pick: fn(&RequestOptions) -> Option<Duration>| {
        options.as_ref().and_then(pick).unwrap_or(Duration::from_secs(600))
    };
    let connect_timeout = timeout(|o| o.connect_timeout);
    let first_byte_timeout = timeout(|o| o.first_byte_timeout);
    let between_bytes_timeout = timeout(|o| o.between_bytes_timeout).max(Duration::from_nanos(1));

    let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(HttpError::Connect)?;
    let stream: Box<dyn Stream> = if use_tls {
        let name = ServerName::try_from(host.clone())?;
        let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
        let tls_stream = tokio::time::timeout(connect_timeout, connector.connect(name, tcp))
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(tls_error)?;
        Box::new(tls_stream)
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) =
        tokio::time::timeout(connect_timeout, hyper::client::conn::http1::handshake(TokioIo::new(stream)))
            .await
            .map_err(|_| HttpError::ConnectionTimeout)??;
    // The connection drives the I/O; it ends when the response body has been read.
    let io = tokio::spawn(conn);

    // On the wire the request line carries only the path (no scheme or authority).
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| HttpError::HttpRequestUriInvalid)?;
    if !request.headers().contains_key(http::header::HOST) {
        let value = http::HeaderValue::from_str(authority.as_str()).map_err(|_| HttpError::HttpRequestUriInvalid)?;
        request.headers_mut().insert(http::header::HOST, value);
    }
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)??;
    let response = response.map(|body| IdleTimeoutBody::new(body, between_bytes_timeout).boxed_unsync());
    let io = async move {
        match io.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.is_timeout() => Err(HttpError::HttpResponseTimeout),
            Ok(Err(e)) => Err(HttpError::from(e)),
            Err(_) => Err(HttpError::InternalError(Some("the connection task stopped".into()))),
        }
    };
    Ok((response, Box::new(io)))
}

/// Classify a TLS handshake failure: an untrusted or invalid certificate, or anything else.
fn tls_error(e: std::io::Error) -> HttpError {
    let certificate = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
    tracing::debug!(target: "openmatch::host", "TLS handshake failed: {e}");
    if certificate { HttpError::TlsCertificateError } else { HttpError::TlsProtocolError }
}

/// A response body that fails with `ConnectionReadTimeout` when no frame arrives for `idle`.
struct IdleTimeoutBody {
    inner: hyper::body::Incoming,
    idle: Duration,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl IdleTimeoutBody {
    fn new(inner: hyper::body::Incoming, idle: Duration) -> IdleTimeoutBody {
        IdleTimeoutBody { inner, idle, timer: Box::pin(tokio::time::sleep(idle)) }
    }
}

impl http_body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + self.idle;
                self.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                Poll::Ready(Some(Err(if e.is_timeout() { HttpError::HttpResponseTimeout } else { e.into() })))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webpki_trust_builds_without_a_process_provider() {
        // No `install_default` anywhere: building must not consult the process default.
        let t = TlsTrust::webpki();
        assert_eq!(t.extra_cas(), 0);
    }

    #[test]
    fn pem_without_certificates_is_invalid_input() {
        let e = TlsTrust::with_pem(b"not a certificate").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = TlsTrust::with_pem_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(e.text().contains("cannot read CA certificates"), "{e}");
    }
}
