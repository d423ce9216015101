//! Date formats on the wire (SPEC 3.1) and parsing of input dates.

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Timelike, Utc};

use crate::clock::Millis;

fn utc(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `YYYY-MM-DDTHH:MM:SS` of `t`, digit by digit (every checkout formats two of these, and
/// chrono's `format` parses its pattern each time); `None` outside years 0-9999, where chrono's
/// own formats (a sign, more digits) are kept.
fn seconds(t: &DateTime<Utc>, extra: usize) -> Option<String> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut s = String::with_capacity(19 + extra);
    for place in [1000, 100, 10, 1] {
        push_digit(&mut s, year / place);
    }
    let (month, day, hour, minute, second) = (t.month(), t.day(), t.hour(), t.minute(), t.second());
    for (sep, n) in [
        ('-', month),
        ('-', day),
        ('T', hour),
        (':', minute),
        (':', second),
    ] {
        s.push(sep);
        push_digit(&mut s, n / 10);
        push_digit(&mut s, n);
    }
    Some(s)
}

/// Pushes the last decimal digit of `n`.
fn push_digit(s: &mut String, n: u32) {
    s.push(char::from(b'0' + (n % 10) as u8));
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ`: Validity, DeletionDate.
pub fn iso_millis(ms: Millis) -> String {
    let t = utc(ms);
    match seconds(&t, 5) {
        Some(mut s) => {
            let milli = t.timestamp_subsec_millis();
            s.push('.');
            for place in [100, 10, 1] {
                push_digit(&mut s, milli / place);
            }
            s.push('Z');
            s
        }
        None => t.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, UTC floored to the second, no zone: IssuedAt, Expiration.
pub fn iso_seconds_no_zone(ms: Millis) -> String {
    let t = utc(ms);
    seconds(&t, 0).unwrap_or_else(|| t.format("%Y-%m-%dT%H:%M:%S").to_string())
}

/// An output time in the format a policy switch chooses (SPEC 3.1 `[P]` formats).
pub fn format_as(format: crate::policy::TimeFormat, ms: Millis) -> String {
    use crate::policy::TimeFormat;
    match format {
        TimeFormat::IsoMillis => iso_millis(ms),
        TimeFormat::IsoSeconds => {
            let t = utc(ms);
            match seconds(&t, 1) {
                Some(mut s) => {
                    s.push('Z');
                    s
                }
                None => t.to_rfc3339_opts(SecondsFormat::Secs, true),
            }
        }
        TimeFormat::Seconds => iso_seconds_no_zone(ms),
    }
}

/// Epoch seconds floored, as a decimal string: CreateTime.
pub fn epoch_seconds_string(ms: Millis) -> String {
    ms.div_euclid(1000).to_string()
}

/// Parses an input date that already matched the ISO8601DateTime pattern: it must be a real instant
/// in years 0001-9999; it is converted to UTC and truncated to milliseconds (SPEC 3.1).
pub fn parse_input_date(s: &str) -> Option<Millis> {
    let dt = DateTime::parse_from_rfc3339(s).ok()?;
    let ms = dt.with_timezone(&Utc).timestamp_millis();
    let year = chrono::Datelike::year(&utc(ms));
    (1..=9999).contains(&year).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every format, digit by digit, says what chrono's own formatting says, for instants
    /// across years 0-9999 and beyond them (where chrono's is used).
    #[test]
    fn spec_3_1_formats_agree_with_chrono() {
        use crate::policy::TimeFormat;
        let year_10000 = 253_402_300_800_000;
        let mut instants = vec![
            0,
            -1,
            1,
            999,
            1_000,
            year_10000 - 1,
            year_10000,
            -62_167_219_200_000,
            -62_167_219_200_001,
        ];
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            instants.push(x.rem_euclid(2 * year_10000) - year_10000 / 2);
        }
        for ms in instants {
            let t = utc(ms);
            assert_eq!(
                iso_millis(ms),
                t.to_rfc3339_opts(SecondsFormat::Millis, true),
                "{ms}"
            );
            assert_eq!(
                iso_seconds_no_zone(ms),
                t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "{ms}"
            );
            assert_eq!(
                format_as(TimeFormat::IsoSeconds, ms),
                t.to_rfc3339_opts(SecondsFormat::Secs, true),
                "{ms}"
            );
        }
    }

    #[test]
    fn spec_3_1_output_formats() {
        let ms = 1_767_225_600_123;
        assert_eq!(iso_millis(ms), "2026-01-01T00:00:00.123Z");
        assert_eq!(iso_seconds_no_zone(ms + 999), "2026-01-01T00:00:01");
        assert_eq!(epoch_seconds_string(ms), "1767225600");
    }

    #[test]
    fn spec_3_1_input_dates_are_real_instants_in_utc_truncated_to_millis() {
        assert_eq!(parse_input_date("2026-01-01T00:00:00Z"), Some(1_767_225_600_000));
        assert_eq!(
            parse_input_date("2026-01-01T01:00:00.1239+01:00"),
            Some(1_767_225_600_123)
        );
        assert_eq!(parse_input_date("2026-02-30T00:00:00Z"), None, "not a real day");
        assert_eq!(
            parse_input_date("2026-01-01T00:00:00ZZ"),
            None,
            "pattern allows it, the instant does not"
        );
        assert_eq!(
            parse_input_date("0000-12-31T00:00:00Z"),
            None,
            "year 0 is out of range"
        );
        assert!(parse_input_date("0001-01-01T00:00:00Z").is_some());
        assert!(parse_input_date("9999-12-31T23:59:59Z").is_some());
        assert_eq!(
            parse_input_date("9999-12-31T23:59:59-01:00"),
            None,
            "in UTC that is year 10000"
        );
    }
}
