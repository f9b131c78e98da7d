//! The accept loop shared by HTTP and HTTPS: a tokio listener, an optional rustls handshake
//! (ring provider, chosen explicitly: no process-level provider is installed), and hyper's
//! HTTP/1.1 server driving the axum router.
//!
//! Every connection holds a permit of a semaphore sized [`Config::max_connections`]: at the cap
//! the loop stops accepting (new connections wait in the kernel's backlog) instead of running
//! out of file descriptors. A client must finish its TLS handshake and each request's headers
//! within [`Config::header_read_timeout`], or its connection is closed (this also closes
//! keep-alive connections that sit idle that long), so idle sockets cannot hold permits forever.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, Tls};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error("cannot read {what} from {path}: {reason}")]
    Pem {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// The certificate file holds no certificate.
    #[error("no certificate found in {0}")]
    NoCertificate(PathBuf),
    /// rustls refused the certificate/key pair.
    #[error("invalid certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
    /// The self-signed certificate could not be generated.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The generated certificate could not be written.
    #[error("cannot write the certificate to {path}: {source}")]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The rustls server configuration of `tls` (HTTP/1.1 only, ring provider). For a
/// self-signed certificate, `ip` is added to its names when it is a specific address.
pub(crate) fn acceptor(tls: &Tls, ip: std::net::IpAddr) -> Result<TlsAcceptor, TlsError> {
    let (certs, key) = match tls {
        Tls::Files { cert, key } => (read_certs(cert)?, read_key(key)?),
        Tls::SelfSigned { write_cert_to } => self_signed(write_cert_to, ip)?,
    };
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |e: rustls::pki_types::pem::Error| TlsError::Pem {
        what: "certificate",
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Pem {
        what: "private key",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A fresh key pair and a certificate for `localhost`, `127.0.0.1` (and `ip`); the
/// certificate's PEM is written to `out` so clients can trust it as a CA file.
fn self_signed(
    out: &Path,
    ip: std::net::IpAddr,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !ip.is_unspecified() && ip.to_string() != "127.0.0.1" {
        names.push(ip.to_string());
    }
    let ck = rcgen::generate_simple_self_signed(names)?;
    std::fs::write(out, ck.cert.pem()).map_err(|source| TlsError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let key =
        PrivateKeyDer::try_from(ck.signing_key.serialize_der()).map_err(|e| TlsError::Pem {
            what: "private key",
            path: out.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok((vec![ck.cert.der().clone()], key))
}

/// Connection limits of the accept loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub(crate) fn of(config: &Config) -> Limits {
        Limits {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections.clamp(1, Semaphore::MAX_PERMITS),
        }
    }
}

/// Serves `router` on `listener` until `stop` fires, then lets in-flight requests finish
/// (idle connections are closed) and returns when every connection has ended.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    stop: oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing_rx) = watch::channel(false);
    let service = TowerToHyperService::new(router);
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE/ENFILE and aborted handshakes: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let conn = Conn {
            tls: tls.clone(),
            service: service.clone(),
            timeout: limits.header_read_timeout,
            closing: closing_rx.clone(),
        };
        tokio::spawn(async move {
            conn.run(stream).await;
            drop(permit);
        });
    }
    drop(listener);
    drop(closing_rx);
    let _ = closing_tx.send(true);
    // Every connection holds a receiver: this returns when the last one has ended.
    closing_tx.closed().await;
}

struct Conn {
    tls: Option<TlsAcceptor>,
    service: TowerToHyperService<Router>,
    timeout: Duration,
    closing: watch::Receiver<bool>,
}

impl Conn {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        match self.tls.take() {
            None => self.http(TokioIo::new(stream)).await,
            Some(acceptor) => {
                let handshake = tokio::time::timeout(self.timeout, acceptor.accept(stream));
                let tls = tokio::select! {
                    r = handshake => match r {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake timed out");
                            return;
                        }
                    },
                    _ = closing(&mut self.closing) => return,
                };
                self.http(TokioIo::new(tls)).await
            }
        }
    }

    async fn http<I>(mut self, io: I)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.timeout);
        let conn = builder.serve_connection(io, self.service.clone());
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = closing(&mut self.closing) => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Resolves when the server starts closing.
async fn closing(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}
