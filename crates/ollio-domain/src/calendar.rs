//! Calendar arithmetic on unix-millisecond timestamps, in UTC: enough for
//! monthly credit periods and human-readable dates, without a date library.

const MS_PER_DAY: i64 = 86_400_000;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// (year, month 1–12, day 1–31) of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm: eras of 400 years starting on 1 March.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 to the given date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The first millisecond of the month `ms` falls in.
pub fn month_start(ms: i64) -> i64 {
    let (year, month, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    days_from_civil(year, month, 1) * MS_PER_DAY
}

/// The first millisecond of the month after the one `ms` falls in.
pub fn next_month_start(ms: i64) -> i64 {
    let (year, month, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    days_from_civil(year, month, 1) * MS_PER_DAY
}

/// "1 December 2026".
pub fn format_date(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    format!("{day} {} {year}", MONTHS[(month - 1) as usize])
}

/// "2026-12-01T09:05:03.250Z", as APIs write times.
pub fn format_rfc3339(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (seconds, millis) = (in_day / 1_000, in_day % 1_000);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// "1 Dec 2026, 09:05 UTC".
pub fn format_date_time(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let minutes = ms.rem_euclid(MS_PER_DAY) / 60_000;
    format!(
        "{day} {} {year}, {:02}:{:02} UTC",
        &MONTHS[(month - 1) as usize][..3],
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_22_2026_0840: i64 = 1_795_336_800_000; // 2026-11-22T08:40:00Z

    #[test]
    fn rfc3339_has_milliseconds_and_utc() {
        assert_eq!(
            format_rfc3339(NOV_22_2026_0840 + 3_250),
            "2026-11-22T08:40:03.250Z"
        );
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn months_start_and_end() {
        assert_eq!(format_date_time(NOV_22_2026_0840), "22 Nov 2026, 08:40 UTC");
        assert_eq!(
            format_date(month_start(NOV_22_2026_0840)),
            "1 November 2026"
        );
        assert_eq!(
            format_date(next_month_start(NOV_22_2026_0840)),
            "1 December 2026"
        );
        let december = next_month_start(NOV_22_2026_0840);
        assert_eq!(format_date(next_month_start(december)), "1 January 2027");
        assert_eq!(month_start(december), december);
        assert_eq!(month_start(december - 1), month_start(NOV_22_2026_0840));
    }

    #[test]
    fn leap_years_and_the_epoch() {
        assert_eq!(format_date(0), "1 January 1970");
        let feb_2028 = days_from_civil(2028, 2, 29) * MS_PER_DAY;
        assert_eq!(format_date(feb_2028), "29 February 2028");
        assert_eq!(format_date(next_month_start(feb_2028)), "1 March 2028");
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
