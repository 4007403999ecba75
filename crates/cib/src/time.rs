//! Time as the CIB writes it: operation intervals and timeouts (`30s`, `1m`, `PT1M`, `90`),
//! ISO 8601 dates (`2005-020`, `2014-05-07 00:28:00`, `2005-W03-4T12:30Z`) and durations
//! (`P1Y2M`, `PT30S`), and the calendar fields `date_spec` matches against.
//!
//! Times without an offset are read as UTC: the crate has no access to the machine's time
//! zone (core crates do no I/O), and the drivers pass `now` in UTC.

use std::fmt;

/// A string that is not a valid time, date or duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not {expected}")]
pub struct TimeError {
    pub text: String,
    pub expected: &'static str,
}

fn err(text: &str, expected: &'static str) -> TimeError {
    TimeError {
        text: text.to_string(),
        expected,
    }
}

/// Parses an interval or timeout into milliseconds: an ISO 8601 duration (`PT30S`), or a
/// number with an optional unit (`ms`/`msec`, `us`/`usec`, `s`/`sec`, `m`/`min`, `h`/`hr`);
/// a bare number is seconds.
pub fn parse_ms(text: &str) -> Result<u64, TimeError> {
    const EXPECTED: &str = "a time interval (e.g. 30s, 500ms, 1m, PT1M or a number of seconds)";
    let t = text.trim();
    if t.starts_with('P') || t.starts_with('p') {
        let d = Duration::parse(t).map_err(|_| err(text, EXPECTED))?;
        let secs = d.approximate_seconds();
        return u64::try_from(secs)
            .map(|s| s.saturating_mul(1000))
            .map_err(|_| err(text, EXPECTED));
    }
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(err(text, EXPECTED));
    }
    let factor_us: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" => 1_000_000.0,
        "ms" | "msec" | "msecs" => 1_000.0,
        "us" | "usec" | "usecs" => 1.0,
        "m" | "min" | "mins" => 60_000_000.0,
        "h" | "hr" | "hrs" => 3_600_000_000.0,
        _ => return Err(err(text, EXPECTED)),
    };
    let value: f64 = number.parse().map_err(|_| err(text, EXPECTED))?;
    let ms = (value * factor_us / 1000.0).round();
    if !(0.0..=(u64::MAX as f64)).contains(&ms) {
        return Err(err(text, EXPECTED));
    }
    Ok(ms as u64)
}

/// Formats milliseconds the way crmsh and Pacemaker print intervals: `30s`, `1m`, `500ms`.
pub fn format_ms(ms: u64) -> String {
    if ms == 0 {
        "0".into()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

// ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) -------------------

/// Days since 1970-01-01 of a civil date (any year).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// ISO weekday of a day number: Monday = 1 .. Sunday = 7.
pub fn weekday(days: i64) -> u32 {
    ((days + 3).rem_euclid(7) + 1) as u32
}

/// Day number of the Monday of ISO week 1 of `year`.
fn iso_week1_monday(year: i64) -> i64 {
    let jan4 = days_from_civil(year, 1, 4);
    jan4 - (weekday(jan4) as i64 - 1)
}

/// (ISO week-numbering year, ISO week) of a day number.
pub fn iso_week(days: i64) -> (i64, u32) {
    let (y, _, _) = civil_from_days(days);
    for year in [y + 1, y, y - 1] {
        let start = iso_week1_monday(year);
        if days >= start {
            return (year, ((days - start) / 7 + 1) as u32);
        }
    }
    unreachable!("a day always falls in the ISO year of its civil year or a neighbour")
}

/// A point in time, to the second, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub epoch_secs: i64,
}

/// The calendar fields of a [`DateTime`] that `date_spec` can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    pub year: i64,
    pub month: u32,
    pub monthday: u32,
    pub yearday: u32,
    pub weekday: u32,
    pub weekyear: i64,
    pub week: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl DateTime {
    pub fn from_epoch(epoch_secs: i64) -> DateTime {
        DateTime { epoch_secs }
    }

    pub fn from_civil(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> DateTime {
        let days = days_from_civil(y, m, d);
        DateTime {
            epoch_secs: days * 86_400 + (hh * 3600 + mm * 60 + ss) as i64,
        }
    }

    pub fn fields(self) -> Fields {
        let days = self.epoch_secs.div_euclid(86_400);
        let secs = self.epoch_secs.rem_euclid(86_400) as u32;
        let (year, month, monthday) = civil_from_days(days);
        let (weekyear, week) = iso_week(days);
        Fields {
            year,
            month,
            monthday,
            yearday: (days - days_from_civil(year, 1, 1) + 1) as u32,
            weekday: weekday(days),
            weekyear,
            week,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }

    /// Parses the ISO 8601 forms Pacemaker accepts: a date (`2005-01-20`, ordinal `2005-020`,
    /// week `2005-W03-4`, or the same without dashes), optionally followed by `T` or a space
    /// and a time (`12:30`, `12:30:05`, `123005`), optionally followed by `Z` or an offset
    /// (`+01:00`, `-0500`, `+01`).
    pub fn parse(text: &str) -> Result<DateTime, TimeError> {
        const EXPECTED: &str =
            "an ISO 8601 date and time (e.g. 2024-06-01 12:00:00, 2024-153T12:00Z)";
        let t = text.trim();
        let (date, time) = match t.find(['T', 't', ' ']) {
            Some(i) => (&t[..i], Some(t[i + 1..].trim())),
            None => (t, None),
        };
        let days = parse_date(date).ok_or_else(|| err(text, EXPECTED))?;
        let (secs, offset) = match time {
            Some(tm) => parse_time(tm).ok_or_else(|| err(text, EXPECTED))?,
            None => (0, 0),
        };
        Ok(DateTime {
            epoch_secs: days * 86_400 + secs - offset,
        })
    }

    /// This time plus a calendar duration: years and months move the calendar date (the day is
    /// clamped to the new month's length), the rest is added as elapsed time.
    pub fn plus(self, d: &Duration) -> DateTime {
        let f = self.fields();
        let total_months = f.year * 12 + (f.month as i64 - 1) + d.years * 12 + d.months;
        let (y, m) = (
            total_months.div_euclid(12),
            (total_months.rem_euclid(12) + 1) as u32,
        );
        let day = f.monthday.min(days_in_month(y, m));
        let base = DateTime::from_civil(y, m, day, f.hour, f.minute, f.second);
        let secs = (d.weeks * 7 + d.days) * 86_400 + d.hours * 3600 + d.minutes * 60 + d.seconds;
        DateTime {
            epoch_secs: base.epoch_secs + secs,
        }
    }

    /// The time as `ctime` prints it (Pacemaker's "Last updated" lines): `Thu Jun 18 11:33:51 2020`.
    pub fn ctime(self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let f = self.fields();
        format!(
            "{} {} {:>2} {:02}:{:02}:{:02} {}",
            DAYS[(f.weekday - 1) as usize],
            MONTHS[(f.month - 1) as usize],
            f.monthday,
            f.hour,
            f.minute,
            f.second,
            f.year
        )
    }
}

impl fmt::Display for DateTime {
    /// ISO 8601, UTC: `2020-06-18 11:33:51Z`.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let f = self.fields();
        write!(
            out,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            f.year, f.month, f.monthday, f.hour, f.minute, f.second
        )
    }
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split('-').collect();
    let date = |y: i64, m: i64, d: i64| -> Option<i64> {
        let (m, d) = (u32::try_from(m).ok()?, u32::try_from(d).ok()?);
        ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m))
            .then(|| days_from_civil(y, m, d))
    };
    let ordinal = |y: i64, n: i64| -> Option<i64> {
        let len = if is_leap(y) { 366 } else { 365 };
        (1..=len)
            .contains(&n)
            .then(|| days_from_civil(y, 1, 1) + n - 1)
    };
    let week = |y: i64, w: &str, d: Option<i64>| -> Option<i64> {
        let w = digits(w.strip_prefix('W')?)?;
        let d = d.unwrap_or(1);
        ((1..=53).contains(&w) && (1..=7).contains(&d))
            .then(|| iso_week1_monday(y) + (w - 1) * 7 + d - 1)
    };
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.starts_with('W') => week(digits(y)?, m, Some(digits(d)?)),
        [y, m, d] if y.len() == 4 => date(digits(y)?, digits(m)?, digits(d)?),
        [y, w] if y.len() == 4 && w.starts_with('W') => week(digits(y)?, w, None),
        [y, n] if y.len() == 4 && n.len() == 3 => ordinal(digits(y)?, digits(n)?),
        [y, m] if y.len() == 4 && m.len() == 2 => date(digits(y)?, digits(m)?, 1),
        [compact] if compact.len() == 8 => date(
            digits(&compact[..4])?,
            digits(&compact[4..6])?,
            digits(&compact[6..])?,
        ),
        [compact] if compact.len() == 7 => ordinal(digits(&compact[..4])?, digits(&compact[4..])?),
        [y] if y.len() == 4 => date(digits(y)?, 1, 1),
        _ => None,
    }
}

/// Seconds into the day and the offset east of UTC in seconds.
fn parse_time(s: &str) -> Option<(i64, i64)> {
    let (clock, offset) = if let Some(c) = s.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = s.rfind(['+', '-']) {
        let sign = if s.as_bytes()[i] == b'-' { -1 } else { 1 };
        let o = s[i + 1..].replace(':', "");
        let (h, m) = match o.len() {
            2 => (digits(&o)?, 0),
            4 => (digits(&o[..2])?, digits(&o[2..])?),
            _ => return None,
        };
        (&s[..i], sign * (h * 3600 + m * 60))
    } else {
        (s, 0)
    };
    let clock = clock.trim();
    let (h, m, sec) = if clock.contains(':') {
        let p: Vec<&str> = clock.split(':').collect();
        match p.as_slice() {
            [h, m] => (digits(h)?, digits(m)?, 0),
            [h, m, s] => (digits(h)?, digits(m)?, digits(s.split('.').next()?)?),
            _ => return None,
        }
    } else {
        match clock.len() {
            2 => (digits(clock)?, 0, 0),
            4 => (digits(&clock[..2])?, digits(&clock[2..])?, 0),
            6 => (
                digits(&clock[..2])?,
                digits(&clock[2..4])?,
                digits(&clock[4..])?,
            ),
            _ => return None,
        }
    };
    (h <= 24 && m < 60 && sec < 61).then_some((h * 3600 + m * 60 + sec, offset))
}

/// A calendar duration (ISO 8601 `PnYnMnWnDTnHnMnS`, or a `duration` element's attributes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Duration {
    pub years: i64,
    pub months: i64,
    pub weeks: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, TimeError> {
        const EXPECTED: &str = "an ISO 8601 duration (e.g. P1D, PT30M, P1Y2M)";
        let t = text.trim();
        let body = t
            .strip_prefix(['P', 'p'])
            .ok_or_else(|| err(text, EXPECTED))?;
        let mut d = Duration::default();
        let mut in_time = false;
        let mut number = String::new();
        let mut any = false;
        for c in body.chars() {
            match c.to_ascii_uppercase() {
                'T' if !in_time && number.is_empty() => in_time = true,
                c if c.is_ascii_digit() => number.push(c),
                unit => {
                    let n: i64 = number.parse().map_err(|_| err(text, EXPECTED))?;
                    number.clear();
                    any = true;
                    let slot = match (unit, in_time) {
                        ('Y', false) => &mut d.years,
                        ('M', false) => &mut d.months,
                        ('W', false) => &mut d.weeks,
                        ('D', false) => &mut d.days,
                        // `P10S` (no `T`) is accepted, as Pacemaker does: H and S are unambiguous.
                        ('H', _) => &mut d.hours,
                        ('M', true) => &mut d.minutes,
                        ('S', _) => &mut d.seconds,
                        _ => return Err(err(text, EXPECTED)),
                    };
                    *slot += n;
                }
            }
        }
        if !number.is_empty() || !any {
            return Err(err(text, EXPECTED));
        }
        Ok(d)
    }

    /// The duration in seconds taking a year as 365 days and a month as 30 (for intervals,
    /// where no calendar position is known).
    pub fn approximate_seconds(&self) -> i64 {
        ((self.years * 365 + self.months * 30 + self.weeks * 7 + self.days) * 86_400)
            + self.hours * 3600
            + self.minutes * 60
            + self.seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_ms("30s"), Ok(30_000));
        assert_eq!(parse_ms("30"), Ok(30_000));
        assert_eq!(parse_ms("0"), Ok(0));
        assert_eq!(parse_ms("500ms"), Ok(500));
        assert_eq!(parse_ms("1m"), Ok(60_000));
        assert_eq!(parse_ms("2min"), Ok(120_000));
        assert_eq!(parse_ms("1h"), Ok(3_600_000));
        assert_eq!(parse_ms("PT1M30S"), Ok(90_000));
        assert_eq!(parse_ms("1.5s"), Ok(1500));
        assert!(parse_ms("ten").is_err());
        assert!(parse_ms("10 parsecs").is_err());
        assert!(parse_ms("").is_err());
        assert_eq!(format_ms(30_000), "30s");
        assert_eq!(format_ms(60_000), "1m");
        assert_eq!(format_ms(1500), "1500ms");
    }

    #[test]
    fn calendar_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(weekday(0), 4, "1970-01-01 was a Thursday");
        assert_eq!(iso_week(days_from_civil(2005, 1, 1)), (2004, 53));
        assert_eq!(iso_week(days_from_civil(2008, 12, 29)), (2009, 1));
    }

    #[test]
    fn dates() {
        let want = DateTime::from_civil(2005, 1, 20, 0, 0, 0);
        assert_eq!(DateTime::parse("2005-020"), Ok(want));
        assert_eq!(DateTime::parse("2005-01-20"), Ok(want));
        assert_eq!(DateTime::parse("20050120"), Ok(want));
        assert_eq!(DateTime::parse("2005-W03-4"), Ok(want));
        assert_eq!(
            DateTime::parse("2005-020T12:30"),
            Ok(DateTime::from_civil(2005, 1, 20, 12, 30, 0))
        );
        assert_eq!(
            DateTime::parse("2014-05-07 00:28:00"),
            Ok(DateTime::from_civil(2014, 5, 7, 0, 28, 0))
        );
        assert_eq!(
            DateTime::parse("2014-05-07T02:28:00+02:00"),
            Ok(DateTime::from_civil(2014, 5, 7, 0, 28, 0))
        );
        assert_eq!(
            DateTime::parse("2014-05-07T00:28:00Z"),
            Ok(DateTime::from_civil(2014, 5, 7, 0, 28, 0))
        );
        assert!(DateTime::parse("2005-13-01").is_err());
        assert!(DateTime::parse("2005-02-30").is_err());
        assert!(DateTime::parse("yesterday").is_err());
        assert_eq!(
            DateTime::from_civil(2020, 6, 18, 11, 33, 51).ctime(),
            "Thu Jun 18 11:33:51 2020"
        );
        let f = want.fields();
        assert_eq!((f.yearday, f.weekday, f.week, f.weekyear), (20, 4, 3, 2005));
    }

    #[test]
    fn durations() {
        let d = Duration::parse("P1Y2M3W4DT5H6M7S").unwrap();
        assert_eq!(
            (
                d.years, d.months, d.weeks, d.days, d.hours, d.minutes, d.seconds
            ),
            (1, 2, 3, 4, 5, 6, 7)
        );
        assert!(Duration::parse("P").is_err());
        assert!(Duration::parse("PT5").is_err());
        assert_eq!(Duration::parse("P10S").unwrap().seconds, 10);
        assert!(Duration::parse("PT5Y").is_err());
        let jan31 = DateTime::from_civil(2023, 1, 31, 10, 0, 0);
        assert_eq!(
            jan31.plus(&Duration {
                months: 1,
                ..Default::default()
            }),
            DateTime::from_civil(2023, 2, 28, 10, 0, 0)
        );
        assert_eq!(
            jan31.plus(&Duration {
                hours: 15,
                ..Default::default()
            }),
            DateTime::from_civil(2023, 2, 1, 1, 0, 0)
        );
    }
}
