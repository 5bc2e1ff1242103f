//! Dates in front matter: `2023-03-13`, `2023-03-13 00:00:00`, RFC 3339
//! and Jekyll's `2023-03-13 10:00:00 +0200`.

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::field::Text;

/// A date from front matter. Dates without an offset are taken as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub jiff::Timestamp);

impl Date {
    /// Accepts `2023-03-13`, `2023-03-13 00:00:00` (or with a `T`), RFC
    /// 3339 such as `2023-03-13T10:00:00+02:00`, and Jekyll's
    /// `2023-03-13 10:00:00 +0200`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let text = text.trim();
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(Date(ts));
        }
        // Jekyll and Hugo write `2023-03-13 10:00:00 +0200`.
        for format in [
            "%Y-%m-%d %H:%M:%S %z",
            "%Y-%m-%d %H:%M:%S %:z",
            "%Y-%m-%d %H:%M %z",
        ] {
            if let Ok(zoned) =
                jiff::fmt::strtime::parse(format, text).and_then(|t| t.to_timestamp())
            {
                return Ok(Date(zoned));
            }
        }
        if !text.contains(['+', 'Z', 'z'])
            && text.get(10..).is_some_and(|rest| !rest.contains('-'))
            && let Ok(dt) = text.parse::<jiff::civil::DateTime>()
            && let Ok(ts) = jiff::tz::TimeZone::UTC.to_timestamp(dt)
        {
            return Ok(Date(ts));
        }
        Err(format!(
            "`{text}` is not a date; expected `2023-03-13`, `2023-03-13 00:00:00` or RFC 3339 such as `2023-03-13T00:00:00Z`"
        ))
    }

    /// `2023-03-13T00:00:00Z`, for `<time datetime>` and feeds.
    pub fn rfc3339(&self) -> String {
        self.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `2023-03-13`, the calendar day in UTC.
    pub fn ymd(&self) -> String {
        self.0.strftime("%Y-%m-%d").to_string()
    }

    /// `13 March 2023`, for readers.
    pub fn human(&self) -> String {
        self.0.strftime("%-d %B %Y").to_string()
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(text) = Text::deserialize(d)?;
        Date::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_accepted_form() {
        let midnight = Date::parse("2023-03-13T00:00:00Z").unwrap();
        assert_eq!(Date::parse("2023-03-13").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13 00:00:00").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13T00:00:00").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13T02:00:00+02:00").unwrap(), midnight);
        assert_eq!(midnight.ymd(), "2023-03-13");
        assert_eq!(midnight.human(), "13 March 2023");
        assert_eq!(midnight.rfc3339(), "2023-03-13T00:00:00Z");
        assert_eq!(Date::parse("2023-03-13 02:00:00 +0200").unwrap(), midnight);
        assert_eq!(Date::parse("2023-03-13 02:00:00 +02:00").unwrap(), midnight);
        assert!(Date::parse("13/03/2023").is_err());
        assert!(Date::parse("2023-02-30").is_err());
        assert!(Date::parse("").is_err());
    }
}
