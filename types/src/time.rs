//! Dates, timestamps and intervals: parsing the server's text, printing parameter and display text.

/// Microseconds per second.
const MICROS_PER_SEC: i64 = 1_000_000;
/// Microseconds per day.
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Whether `(year, month, day)` is a real calendar date.
pub fn valid_date(year: i32, month: u8, day: u8) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Parse `[+-]YYYY-MM-DD` (4 or more year digits).
pub fn parse_date(s: &str) -> Option<(i32, u8, u8)> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mut it = body.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() < 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let mut year: i32 = digits(y)?.try_into().ok()?;
    if neg {
        year = -year;
    }
    let month = u8::try_from(digits(m)?).ok()?;
    let day = u8::try_from(digits(d)?).ok()?;
    valid_date(year, month, day).then_some((year, month, day))
}

/// Parse only ASCII digits (at most 18) into a number.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Fraction digits (0–9 of them) as microseconds, truncating nanoseconds.
fn fraction_micros(f: &str) -> Option<i64> {
    if f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut padded = String::from(f);
    while padded.len() < 6 {
        padded.push('0');
    }
    padded[..6].parse().ok()
}

/// Parse `HH:MM:SS[.f]` into microseconds of the day.
fn parse_clock(s: &str) -> Option<i64> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) if !b.is_empty() => (a, b),
        Some(_) => return None,
        None => (s, ""),
    };
    let mut it = hms.split(':');
    let (h, m, sec) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || h.len() != 2 || m.len() != 2 || sec.len() != 2 {
        return None;
    }
    let (h, m, sec) = (digits(h)?, digits(m)?, digits(sec)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((h * 3600 + m * 60 + sec) * MICROS_PER_SEC + fraction_micros(frac)?)
}

/// Parse a timestamp `date[T ]clock[Z|±HH:MM|±HHMM]` into microseconds since the epoch.
/// Without an offset the wall-clock time is taken as is; with one it is converted to UTC.
/// `allow_offset = false` (TIMESTAMP_NTZ) rejects text that carries an offset.
pub fn parse_timestamp(s: &str, allow_offset: bool) -> Option<i64> {
    let s = s.trim();
    // The date ends at the first 'T' or ' ' after the year.
    let sep = s
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == 'T' || c == 't' || c == ' ')?
        .0;
    let (date, rest) = (&s[..sep], &s[sep + 1..]);
    let (y, mo, d) = parse_date(date)?;
    let (clock, offset_secs) = split_offset(rest)?;
    if offset_secs.is_some() && !allow_offset {
        return None;
    }
    let micros = parse_clock(clock)?;
    let day_micros = days_from_civil(y, mo, d).checked_mul(MICROS_PER_DAY)?;
    day_micros
        .checked_add(micros)?
        .checked_sub(offset_secs.unwrap_or(0) * MICROS_PER_SEC)
}

/// Split a clock text from its zone suffix, giving the offset in seconds if any.
fn split_offset(rest: &str) -> Option<(&str, Option<i64>)> {
    if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        return Some((c, Some(0)));
    }
    match rest.rfind(['+', '-']) {
        Some(i) => {
            let (clock, off) = (&rest[..i], &rest[i + 1..]);
            let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
            // ±HH, ±HHMM, ±HHMMSS, ±HH:MM or ±HH:MM:SS (seconds: Java's ZoneOffset prints
            // them for historical zones, e.g. +05:53:28).
            let parts: Vec<&str> = if off.contains(':') {
                off.split(':').collect()
            } else if matches!(off.len(), 2 | 4 | 6) && off.is_ascii() {
                (0..off.len()).step_by(2).map(|i| &off[i..i + 2]).collect()
            } else {
                return None;
            };
            if !(1..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
                return None;
            }
            let field = |i: usize| parts.get(i).map_or(Some(0), |p| digits(p));
            let (h, m, sec) = (field(0)?, field(1)?, field(2)?);
            if h > 18 || m > 59 || sec > 59 || (h == 18 && m + sec > 0) {
                return None;
            }
            Some((clock, Some(sign * (h * 3600 + m * 60 + sec))))
        }
        None => Some((rest, None)),
    }
}

/// `YYYY-MM-DD` of a date (years outside 0..=9999 get a sign and at least 4 digits).
pub fn format_date(year: i64, month: u8, day: u8) -> String {
    if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!(
            "{}{:04}-{month:02}-{day:02}",
            if year < 0 { "-" } else { "+" },
            year.unsigned_abs()
        )
    }
}

/// How many fraction digits a printed timestamp has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fraction {
    /// Always six (`.000000`): the wire form of parameters and batches.
    Micros,
    /// As few as keep it exact: none, three or six (`:05`, `:05.123`, `:05.123456`), for display.
    Shortest,
}

/// `YYYY-MM-DD{sep}HH:MM:SS.ffffff` of microseconds since the epoch.
pub fn format_timestamp(micros: i64, sep: char) -> String {
    format_timestamp_with(micros, sep, Fraction::Micros)
}

/// `YYYY-MM-DD{sep}HH:MM:SS[.fff[fff]]` of microseconds since the epoch: the one timestamp
/// printer of the guest and the host.
pub fn format_timestamp_with(micros: i64, sep: char, fraction: Fraction) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / MICROS_PER_SEC;
    let sub = rem % MICROS_PER_SEC;
    let frac = match fraction {
        Fraction::Shortest if sub == 0 => String::new(),
        Fraction::Shortest if sub % 1000 == 0 => format!(".{:03}", sub / 1000),
        _ => format!(".{sub:06}"),
    };
    format!(
        "{}{sep}{:02}:{:02}:{:02}{frac}",
        format_date(y, m, d),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
    )
}

/// Parse an interval: year-month `[-]Y-M` into months, day-time `[-]D HH:MM:SS[.f]` into
/// microseconds, or either as an ANSI literal (`INTERVAL '1-2' YEAR TO MONTH`,
/// `INTERVAL '1 02:03:04.5' DAY TO SECOND`, `INTERVAL '-10' HOUR`, see [`parse_ansi_interval`]).
/// Returns `(months, micros)`.
pub fn parse_interval(s: &str) -> Option<(i32, i64)> {
    let s = s.trim();
    if let Some(rest) = s
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("INTERVAL"))
        .and_then(|_| s.get(8..))
    {
        return parse_ansi_interval(rest);
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let sign = if neg { -1 } else { 1 };
    if let Some((days, clock)) = body.split_once(' ') {
        let days = digits(days)?;
        let (h, rest) = clock.split_once(':')?;
        // Hours may exceed 23 in single-field intervals; re-use the clock parser on the rest.
        let h = digits(h)?;
        let ms = parse_clock(&format!("00:{rest}"))?;
        let micros = days
            .checked_mul(MICROS_PER_DAY)?
            .checked_add(h.checked_mul(3600 * MICROS_PER_SEC)?)?
            .checked_add(ms)?;
        return Some((0, sign * micros));
    }
    let (y, m) = body.split_once('-')?;
    let months = digits(y)?.checked_mul(12)?.checked_add(digits(m)?)?;
    Some((i32::try_from(sign * months).ok()?, 0))
}

/// The fields of an ANSI interval qualifier, largest first.
const FIELDS: [(&str, i64); 6] = [
    ("YEAR", 12),
    ("MONTH", 1),
    ("DAY", MICROS_PER_DAY),
    ("HOUR", 3_600 * MICROS_PER_SEC),
    ("MINUTE", 60 * MICROS_PER_SEC),
    ("SECOND", MICROS_PER_SEC),
];

/// The rest of an ANSI interval literal after `INTERVAL`: `[-]'[-]text' FIELD [TO FIELD]`, e.g.
/// `'1-2' YEAR TO MONTH`, `'1 02:03:04.5' DAY TO SECOND`, `'02:03' HOUR TO MINUTE`, `'10' DAY`
/// (Spark's ANSI interval text). The first field may exceed its usual range; the others may not.
fn parse_ansi_interval(rest: &str) -> Option<(i32, i64)> {
    let rest = rest.trim_start();
    let (outer_neg, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, rest.strip_prefix('+').unwrap_or(rest).trim_start()),
    };
    let (text, qualifier) = rest.strip_prefix('\'')?.split_once('\'')?;
    let mut words = qualifier.split_whitespace();
    let field = |w: Option<&str>| {
        let w = w?;
        FIELDS
            .iter()
            .position(|(name, _)| w.eq_ignore_ascii_case(name))
    };
    let start = field(words.next())?;
    let end = match words.next() {
        Some(to) if to.eq_ignore_ascii_case("TO") => field(words.next())?,
        Some(_) => return None,
        None => start,
    };
    // YEAR..MONTH or DAY..SECOND, in order.
    if words.next().is_some() || end < start || (start < 2) != (end < 2) {
        return None;
    }
    let text = text.trim();
    let (inner_neg, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let negative = outer_neg != inner_neg;
    // The values of the fields: `Y-M`; `D rest`; the rest separated by `:`.
    let mut values: Vec<&str> = Vec::with_capacity(4);
    if start < 2 {
        values.extend(text.splitn(2, '-'));
    } else if start == 2 && end > 2 {
        let (days, clock) = text.split_once(' ')?;
        values.push(days);
        values.extend(clock.split(':'));
    } else {
        values.extend(text.split(':'));
    }
    if values.len() != end - start + 1 {
        return None;
    }
    let mut total: i64 = 0;
    for (k, v) in values.iter().enumerate() {
        let (name, unit) = FIELDS[start + k];
        let amount = if name == "SECOND" {
            let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
            if v.ends_with('.') {
                return None;
            }
            let secs = digits(whole)?;
            secs.checked_mul(MICROS_PER_SEC)?
                .checked_add(fraction_micros(frac)?)?
        } else {
            digits(v)?.checked_mul(unit)?
        };
        let limit = match name {
            "MONTH" => 11,
            "HOUR" => 23,
            _ => 59,
        };
        let raw = if name == "SECOND" {
            amount / MICROS_PER_SEC
        } else {
            amount / unit
        };
        if k > 0 && name != "DAY" && raw > limit {
            return None;
        }
        total = total.checked_add(amount)?;
    }
    let total = if negative { -total } else { total };
    if start < 2 {
        Some((i32::try_from(total).ok()?, 0))
    } else {
        Some((0, total))
    }
}

/// Interval text: year-month `[-]Y-M`, day-time `[-]D HH:MM:SS.ffffff`; both joined by a space
/// when both parts are set.
pub fn format_interval(months: i32, micros: i64) -> String {
    let ym = || {
        let sign = if months < 0 { "-" } else { "" };
        let m = months.unsigned_abs();
        format!("{sign}{}-{}", m / 12, m % 12)
    };
    let dt = || {
        let sign = if micros < 0 { "-" } else { "" };
        let u = micros.unsigned_abs();
        let secs = u / 1_000_000;
        format!(
            "{sign}{} {:02}:{:02}:{:02}.{:06}",
            secs / 86_400,
            secs / 3_600 % 24,
            secs / 60 % 60,
            secs % 60,
            u % 1_000_000
        )
    };
    match (months, micros) {
        (_, 0) => ym(),
        (0, _) => dt(),
        _ => format!("{} {}", ym(), dt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 18_628, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y as i32, m, d), days);
        }
        assert_eq!(days_from_civil(2021, 1, 1), 18_628);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn timestamps_with_offsets() {
        // 2021-01-01T10:00:00-08:00 == 18:00 UTC
        let t = parse_timestamp("2021-01-01T10:00:00.000-08:00", true).unwrap();
        assert_eq!(t, (18_628 * 86_400 + 18 * 3600) * 1_000_000);
        assert_eq!(format_timestamp(t, 'T'), "2021-01-01T18:00:00.000000");
        let t2 = parse_timestamp("2021-06-15T12:34:56.789-07:00", true).unwrap();
        assert_eq!(format_timestamp(t2, 'T'), "2021-06-15T19:34:56.789000");
        assert_eq!(parse_timestamp("2021-01-01T18:00:00Z", true), Some(t));
        assert_eq!(parse_timestamp("2021-01-01T18:00:00+00:00", true), Some(t));
        assert_eq!(parse_timestamp("2021-01-01T19:30:00+0130", true), Some(t));
        assert_eq!(
            parse_timestamp("2021-01-01 18:00:00.123456789Z", true),
            Some(t + 123_456)
        );
        assert_eq!(
            parse_timestamp("1969-12-31T23:59:59.999999Z", true),
            Some(-1)
        );
    }

    #[test]
    fn ntz_rejects_offsets_and_accepts_space() {
        assert_eq!(
            parse_timestamp("2021-01-01 00:00:00", false),
            Some(18_628 * 86_400_000_000)
        );
        assert_eq!(
            parse_timestamp("2021-01-01T00:00:00.5", false),
            Some(18_628 * 86_400_000_000 + 500_000)
        );
        assert_eq!(parse_timestamp("2021-01-01T00:00:00Z", false), None);
    }

    #[test]
    fn rejects_bad_timestamps() {
        for s in [
            "",
            "2021-13-01T00:00:00Z",
            "2021-02-30T00:00:00Z",
            "2021-01-01T24:00:00Z",
            "2021-01-01T00:00Z",
            "2021-01-01T00:00:00.Z",
            "2021-01-01T00:00:00.1234567890Z",
            "x",
            "2021-01-01",
            "T",
            "-",
        ] {
            assert_eq!(parse_timestamp(s, true), None, "{s}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("-0044-03-15"), Some((-44, 3, 15)));
        assert_eq!(parse_date("+10000-01-01"), Some((10000, 1, 1)));
        assert_eq!(format_date(-44, 3, 15), "-0044-03-15");
        assert_eq!(format_date(10000, 1, 1), "+10000-01-01");
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("100-0"), Some((1200, 0)));
        assert_eq!(parse_interval("-1-6"), Some((-18, 0)));
        let micros = ((3 * 24 + 4) * 3600 + 30 * 60 + 20) * 1_000_000 + 123_000;
        assert_eq!(parse_interval("3 04:30:20.123000000"), Some((0, micros)));
        assert_eq!(parse_interval("-3 04:30:20.123000000"), Some((0, -micros)));
        assert_eq!(
            parse_interval("1 03:00:00.000000000"),
            Some((0, 27 * 3600 * 1_000_000))
        );
        for bad in ["", "-", "1-", "a-b", "1 2:3", "3 04:61:00"] {
            assert_eq!(parse_interval(bad), None, "{bad}");
        }
    }

    #[test]
    fn ansi_interval_literals() {
        let s = 1_000_000;
        let cases: &[(&str, (i32, i64))] = &[
            ("INTERVAL '1-2' YEAR TO MONTH", (14, 0)),
            ("INTERVAL '-1-2' YEAR TO MONTH", (-14, 0)),
            ("interval -'1-2' year to month", (-14, 0)),
            ("INTERVAL -'-1-2' YEAR TO MONTH", (14, 0)),
            ("INTERVAL '100' YEAR", (1_200, 0)),
            ("INTERVAL '30' MONTH", (30, 0)),
            (
                "INTERVAL '1 02:03:04.5' DAY TO SECOND",
                (0, ((26 * 60 + 3) * 60 + 4) * s + 500_000),
            ),
            (
                "INTERVAL '-1 02:03:04.123456789' DAY TO SECOND",
                (0, -(((26 * 60 + 3) * 60 + 4) * s + 123_456)),
            ),
            ("INTERVAL '10' DAY", (0, 10 * 86_400 * s)),
            ("INTERVAL '36' HOUR", (0, 36 * 3_600 * s)),
            (
                "INTERVAL '25:03' HOUR TO MINUTE",
                (0, (25 * 60 + 3) * 60 * s),
            ),
            ("INTERVAL '1 02' DAY TO HOUR", (0, 26 * 3_600 * s)),
            (
                "INTERVAL '1 02:03' DAY TO MINUTE",
                (0, (26 * 60 + 3) * 60 * s),
            ),
            (
                "INTERVAL '02:03:04' HOUR TO SECOND",
                (0, ((2 * 60 + 3) * 60 + 4) * s),
            ),
            (
                "INTERVAL '90:00.25' MINUTE TO SECOND",
                (0, 5_400 * s + 250_000),
            ),
            ("INTERVAL '12.5' SECOND", (0, 12 * s + 500_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_interval(text), Some(*want), "{text}");
        }
        for bad in [
            "INTERVAL",
            "INTERVAL '1-2'",
            "INTERVAL '1-2' YEAR",
            "INTERVAL '1-12' YEAR TO MONTH",
            "INTERVAL '1 24:00:00' DAY TO SECOND",
            "INTERVAL '1 02:60' DAY TO MINUTE",
            "INTERVAL '1-2' MONTH TO YEAR",
            "INTERVAL '1 02' YEAR TO DAY",
            "INTERVAL '1' WEEK",
            "INTERVAL '1 02:03:04' DAY TO SECOND extra",
            "INTERVAL 1-2 YEAR TO MONTH",
            "INTERVAL '12.' SECOND",
            "INTERVAL '99999999999999999' YEAR",
        ] {
            assert_eq!(parse_interval(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets_with_seconds() {
        let utc = parse_timestamp("2021-01-01T00:00:00Z", true).unwrap();
        let off = 5 * 3_600 + 30 * 60 + 15;
        for text in ["2021-01-01T05:30:15+05:30:15", "2021-01-01T05:30:15+053015"] {
            assert_eq!(parse_timestamp(text, true), Some(utc), "{text}");
        }
        assert_eq!(
            parse_timestamp("2020-12-31T18:29:45-05:30:15", true),
            Some(utc)
        );
        assert_eq!(
            parse_timestamp("2021-01-01T00:00:00+18:00", true),
            Some(utc - 18 * 3_600_000_000)
        );
        assert_eq!(off, 19_815);
        for bad in [
            "2021-01-01T00:00:00+05:30:60",
            "2021-01-01T00:00:00+18:00:01",
            "2021-01-01T00:00:00+05:30:1",
            "2021-01-01T00:00:00+05:30:15:00",
            "2021-01-01T00:00:00+0530150",
        ] {
            assert_eq!(parse_timestamp(bad, true), None, "{bad}");
        }
        assert_eq!(parse_timestamp("2021-01-01T05:30:15+05:30:15", false), None);
    }

    #[test]
    fn interval_text() {
        assert_eq!(format_interval(14, 0), "1-2");
        assert_eq!(format_interval(-14, 0), "-1-2");
        assert_eq!(format_interval(0, 0), "0-0");
        assert_eq!(format_interval(0, 86_400_000_000 + 1), "1 00:00:00.000001");
        assert_eq!(format_interval(0, -3_723_500_000), "-0 01:02:03.500000");
        assert_eq!(format_interval(1, 1), "0-1 0 00:00:00.000001");
        for (m, u) in [(14, 0), (-14, 0), (0, 86_400_000_001), (0, -3_723_500_000)] {
            assert_eq!(parse_interval(&format_interval(m, u)), Some((m, u)));
        }
    }
}
