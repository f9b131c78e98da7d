//! A WAN profile for the replay server: every answer waits `latency` before its head is sent,
//! and its body is sent in pieces paced to `bytes_per_s` (a cap per response body, so
//! clients that download several links at once get that much per link, as from cloud
//! storage).

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Bytes per paced piece of a body.
const PIECE: usize = 64 * 1024;

/// Latency per answer and bandwidth per response body.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wan {
    pub latency: Duration,
    pub bytes_per_s: f64,
}

impl Wan {
    /// The default profile: 30 ms per answer, 25 MB/s per body.
    pub const DEFAULT: Wan = Wan {
        latency: Duration::from_millis(30),
        bytes_per_s: 25e6,
    };

    /// Parses `30ms,25MBps` (latency in `ms` or `us`; bandwidth in `MBps`, `KBps` or `Bps`).
    pub fn parse(spec: &str) -> Result<Wan> {
        let (lat, bw) = spec
            .split_once(',')
            .ok_or_else(|| anyhow!("--wan wants LATENCY,BANDWIDTH, e.g. 30ms,25MBps"))?;
        let lat = lat.trim();
        let latency = if let Some(ms) = lat.strip_suffix("ms") {
            Duration::from_secs_f64(ms.parse::<f64>()? / 1e3)
        } else if let Some(us) = lat.strip_suffix("us") {
            Duration::from_secs_f64(us.parse::<f64>()? / 1e6)
        } else {
            bail!("latency {lat:?}: give ms or us");
        };
        let bw = bw.trim();
        let bytes_per_s = [("MBps", 1e6), ("KBps", 1e3), ("Bps", 1.0)]
            .iter()
            .find_map(|(unit, mul)| {
                bw.strip_suffix(unit)
                    .map(|n| n.parse::<f64>().map(|n| n * mul))
            })
            .ok_or_else(|| anyhow!("bandwidth {bw:?}: give MBps, KBps or Bps"))??;
        if bytes_per_s <= 0.0 {
            bail!("bandwidth must be positive");
        }
        Ok(Wan {
            latency,
            bytes_per_s,
        })
    }

    /// `30 ms, 25 MB/s` (for the report).
    pub fn label(&self) -> String {
        format!(
            "WAN {:.0} ms, {:.0} MB/s",
            self.latency.as_secs_f64() * 1e3,
            self.bytes_per_s / 1e6
        )
    }
}

/// The middleware: delay the answer, then pace its body.
pub async fn layer(State(wan): State<Option<Wan>>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let Some(wan) = wan else { return resp };
    tokio::time::sleep(wan.latency).await;
    let (parts, body) = resp.into_parts();
    // Every replay body is already in memory: collecting it costs no waiting.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    if bytes.len() <= PIECE {
        return Response::from_parts(parts, Body::from(bytes));
    }
    Response::from_parts(parts, Body::from_stream(paced(bytes, wan.bytes_per_s)))
}

/// `bytes` in pieces, each sent when the bytes up to its end would have arrived at `rate`.
fn paced(
    bytes: Bytes,
    rate: f64,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let start = tokio::time::Instant::now();
    futures::stream::unfold(0usize, move |at| {
        let bytes = bytes.clone();
        async move {
            if at >= bytes.len() {
                return None;
            }
            let end = (at + PIECE).min(bytes.len());
            let due = start + Duration::from_secs_f64(end as f64 / rate);
            tokio::time::sleep_until(due).await;
            Some((Ok(bytes.slice(at..end)), end))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_profiles() {
        let w = Wan::parse("30ms,25MBps").unwrap();
        assert_eq!(w, Wan::DEFAULT);
        assert_eq!(w.label(), "WAN 30 ms, 25 MB/s");
        assert_eq!(Wan::parse("500us, 100KBps").unwrap().bytes_per_s, 1e5);
        assert!(Wan::parse("30,25").is_err());
    }
}
