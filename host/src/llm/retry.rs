//! When to try a provider request again, and how long to wait first.

use std::time::Duration;

/// First backoff step; doubled on every retry.
const BASE_DELAY: Duration = Duration::from_millis(500);
/// No single backoff step waits longer than this.
const MAX_DELAY: Duration = Duration::from_secs(8);
/// A `Retry-After` up to this long is honoured; a longer one ends the retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Whether an HTTP status is worth another attempt: rate limits, timeouts
/// and server-side failures are; a rejected request is not.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..=599).contains(&status)
}

/// The wait before retry number `retry` (0 for the first retry): exponential
/// backoff with "equal jitter" — half the step fixed, half random — so a
/// crowd of clients does not retry in lock-step. `unit` is a uniform random
/// number in [0, 1).
pub fn backoff(retry: u32, unit: f64) -> Duration {
    let step = BASE_DELAY.saturating_mul(1u32 << retry.min(16)).min(MAX_DELAY);
    let half = step / 2;
    half + half.mul_f64(unit.clamp(0.0, 1.0))
}

/// What a `Retry-After` header asks for: seconds (`"2"`, `"1.5"`) or an
/// HTTP date. `now` is the current time, for the date form.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = parse_http_date(v)?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses the IMF-fixdate form of an HTTP date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(v: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let day: u64 = day.parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let hms: Vec<u64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else { return None };
    if year < 1970 || !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(std::time::UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3_600 + m * 60 + s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A uniform number in [0, 1) that differs from call to call; good enough
/// for jitter, not for anything secret.
pub fn jitter_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_jitter_band_and_is_capped() {
        for retry in 0..6 {
            let step = Duration::from_millis(500 * (1 << retry)).min(MAX_DELAY);
            let low = backoff(retry, 0.0);
            let high = backoff(retry, 0.999_999);
            assert_eq!(low, step / 2, "retry {retry}");
            assert!(high < step && high > step.mul_f64(0.99), "retry {retry}: {high:?} vs {step:?}");
        }
        assert_eq!(backoff(40, 1.0), MAX_DELAY, "huge retry numbers neither overflow nor exceed the cap");
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let draws: Vec<f64> = (0..64).map(|_| jitter_unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)), "{draws:?}");
        let first = draws[0];
        assert!(draws.iter().any(|u| (u - first).abs() > 1e-9), "jitter never changed: {draws:?}");
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.25 ", now), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 25:49:40 GMT", now), None);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [408, 429, 500, 502, 503, 504, 529] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 413, 422] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
