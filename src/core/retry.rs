//! Retry policy: which failures are retried and how long to wait between attempts.

/// First backoff delay, ms.
const BASE_MS: u64 = 200;
/// Largest backoff delay without `Retry-After`, ms.
const CAP_MS: u64 = 10_000;
/// Largest `Retry-After` honoured, ms (longer waits surface as `resource-exhausted`).
const MAX_RETRY_AFTER_MS: u64 = 120_000;

/// How safe a request is to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Idempotent requests (polling, chunks, links, cancel, token, update MERGE): retry 429/502/503/504 and
    /// every connection failure.
    Idempotent,
    /// Statement submission (may write): retry 429/503 (provably not accepted) and connection
    /// failures that certainly did not reach the server; never an outcome-unknown request.
    Submit,
    /// Best effort, one attempt (closing a statement).
    Never,
}

impl Retry {
    /// Whether an HTTP `status` is retried.
    pub fn status(self, status: u16) -> bool {
        match self {
            Retry::Idempotent => matches!(status, 429 | 502 | 503 | 504),
            Retry::Submit => matches!(status, 429 | 503),
            Retry::Never => false,
        }
    }

    /// Whether a connection failure is retried.
    pub fn connection(self, maybe_sent: bool) -> bool {
        match self {
            Retry::Idempotent => true,
            Retry::Submit => !maybe_sent,
            Retry::Never => false,
        }
    }
}

/// Delay before attempt `attempt + 1` (attempt counts from 1): the server's `Retry-After` when
/// given (capped), else exponential backoff from 200 ms capped at 10 s, with "equal jitter"
/// (half fixed, half random) from `random`.
pub fn delay_ms(attempt: u32, retry_after_ms: Option<u64>, random: u64) -> u64 {
    if let Some(ms) = retry_after_ms {
        return ms.min(MAX_RETRY_AFTER_MS) + random % 250;
    }
    let exp = BASE_MS
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
        .min(CAP_MS);
    exp / 2 + random % (exp / 2 + 1)
}

/// Poll interval after `polls` polls: 50 ms doubling to 1 s.
pub fn poll_interval_ms(polls: u32) -> u64 {
    (50u64 << polls.min(5)).min(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        assert_eq!(delay_ms(1, None, 0), 100);
        assert_eq!(delay_ms(1, None, 100), 200);
        assert_eq!(delay_ms(2, None, 0), 200);
        assert_eq!(delay_ms(30, None, 0), 5000);
        assert!(delay_ms(30, None, u64::MAX) <= CAP_MS);
        for r in 0..1000 {
            let d = delay_ms(3, None, r * 7919);
            assert!((400..=800).contains(&d));
        }
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        assert_eq!(delay_ms(1, Some(3000), 0), 3000);
        assert!(delay_ms(1, Some(3000), 999) < 3250);
        assert_eq!(delay_ms(1, Some(u64::MAX), 0), MAX_RETRY_AFTER_MS);
    }

    #[test]
    fn poll_interval_doubles_to_one_second() {
        let seq: Vec<u64> = (0..8).map(poll_interval_ms).collect();
        assert_eq!(seq, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
    }

    #[test]
    fn what_is_retried() {
        assert!(Retry::Submit.status(429) && Retry::Submit.status(503));
        assert!(
            !Retry::Submit.status(502) && !Retry::Submit.status(504) && !Retry::Submit.status(500)
        );
        assert!(
            Retry::Idempotent.status(504)
                && !Retry::Idempotent.status(500)
                && !Retry::Idempotent.status(400)
        );
        assert!(Retry::Submit.connection(false) && !Retry::Submit.connection(true));
        assert!(Retry::Idempotent.connection(true));
        assert!(!Retry::Never.status(503) && !Retry::Never.connection(false));
    }
}
