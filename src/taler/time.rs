//! Taler `RelativeTime` (`{"d_us": n | "forever"}`) and `Timestamp` (`{"t_s": n | "never"}`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::{Value, json};

/// JSON numbers above this lose precision in many clients (api-common `Integer`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A duration in microseconds, or forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelativeTime {
    Micros(u64),
    Forever,
}

/// A point in time in seconds since the Unix epoch, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timestamp {
    Seconds(u64),
    Never,
}

impl RelativeTime {
    pub const ZERO: RelativeTime = RelativeTime::Micros(0);

    pub fn from_duration(d: Duration) -> Self {
        RelativeTime::Micros((d.as_micros() as u64).min(MAX_SAFE_INTEGER))
    }

    /// The duration, or `None` for forever.
    pub fn as_duration(self) -> Option<Duration> {
        match self {
            RelativeTime::Micros(us) => Some(Duration::from_micros(us)),
            RelativeTime::Forever => None,
        }
    }
}

impl RelativeTime {
    /// A relative time as GNUnet writes one in configuration files and query strings
    /// (`GNUNET_STRINGS_fancy_time_to_relative`): `forever`, or numbers with units
    /// (`us`, `ms`, `s`, `min`, `h`, `d`, `week`, `month` = 30 days, `year` = 365 days,
    /// long names and plurals too), summed (`1 h 30 min`). A bare number is
    /// microseconds, as in `RelativeTime.d_us`. A time beyond what Taler's integers
    /// hold (2^53 - 1 microseconds, 285 years) is forever.
    pub fn parse_fancy(text: &str) -> Option<RelativeTime> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("forever") {
            return Some(RelativeTime::Forever);
        }
        let finite = |us: u64| {
            if us <= MAX_SAFE_INTEGER {
                RelativeTime::Micros(us)
            } else {
                RelativeTime::Forever
            }
        };
        if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
            return Some(text.parse::<u64>().map_or(RelativeTime::Forever, finite));
        }
        // Numbers each followed by a unit, spaces optional between and around them.
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return None;
            }
            let number: u64 = rest[..digits].parse().unwrap_or(u64::MAX);
            rest = rest[digits..].trim_start();
            let letters = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let micros: u64 = match rest[..letters].to_ascii_lowercase().as_str() {
                "us" | "microsecond" | "microseconds" => 1,
                "ms" | "millisecond" | "milliseconds" => 1_000,
                "s" | "sec" | "second" | "seconds" => 1_000_000,
                "m" | "min" | "minute" | "minutes" => 60_000_000,
                "h" | "hour" | "hours" => 3_600_000_000,
                "d" | "day" | "days" => 86_400_000_000,
                "week" | "weeks" => 7 * 86_400_000_000,
                "month" | "months" => 30 * 86_400_000_000,
                "a" | "year" | "years" => 365 * 86_400_000_000,
                _ => return None,
            };
            rest = rest[letters..].trim_start();
            total = total.saturating_add(number.saturating_mul(micros));
        }
        Some(finite(total))
    }
}

/// The calendar year (UTC) of a moment given in seconds since the epoch.
pub fn utc_year(unix_seconds: u64) -> i32 {
    // Howard Hinnant's civil-from-days, reduced to the year.
    let days = (unix_seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as i32
}

/// Days since the epoch of 1 January of `year` (Howard Hinnant's days-from-civil).
fn days_to_new_year(year: i32) -> i64 {
    let y = i64::from(year) - 1;
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    // 1 January is day 306 of the March-based year before it.
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + 306;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch of 1 January (00:00 UTC) of `year`.
pub fn new_year(year: i32) -> i64 {
    days_to_new_year(year) * 86_400
}

/// The calendar year and the day of the year (1 to 366), UTC.
pub fn utc_year_and_day(unix_seconds: u64) -> (i32, u32) {
    let year = utc_year(unix_seconds);
    let day = (unix_seconds / 86_400) as i64 - days_to_new_year(year) + 1;
    (year, day as u32)
}

/// The current calendar year (UTC).
pub fn current_year() -> i32 {
    utc_year(unix_seconds(SystemTime::now()))
}

impl Timestamp {
    pub fn now() -> Self {
        Timestamp::Seconds(unix_seconds(SystemTime::now()))
    }

    /// `self` moved forward by a relative time, saturating at never.
    pub fn plus(self, rel: RelativeTime) -> Self {
        match (self, rel) {
            (Timestamp::Seconds(s), RelativeTime::Micros(us)) => {
                let t = s.saturating_add(us / 1_000_000);
                if t > MAX_SAFE_INTEGER {
                    Timestamp::Never
                } else {
                    Timestamp::Seconds(t)
                }
            }
            _ => Timestamp::Never,
        }
    }

    /// Seconds since the epoch as stored in the database; never is `i64::MAX`.
    pub fn to_db(self) -> i64 {
        match self {
            Timestamp::Seconds(s) => s as i64,
            Timestamp::Never => i64::MAX,
        }
    }

    pub fn from_db(v: i64) -> Self {
        if v == i64::MAX || v < 0 {
            Timestamp::Never
        } else {
            Timestamp::Seconds(v as u64)
        }
    }
}

pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Parses `{"<field>": n | "<infinite>"}`: `Some(n)`, or `None` for the infinite word.
fn parse_time_object<T: Type>(
    value: Option<Value>,
    field: &str,
    infinite: &str,
) -> Result<Option<u64>, ParseError<T>> {
    let Some(value) = value else {
        return Err(ParseError::expected_input());
    };
    let Value::Object(map) = &value else {
        return Err(ParseError::expected_type(value));
    };
    if map.len() != 1 {
        return Err(ParseError::custom(format!(
            "expected an object with the single field `{field}`"
        )));
    }
    match map.get(field) {
        Some(Value::String(s)) if s == infinite => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v <= MAX_SAFE_INTEGER => Ok(Some(v)),
            _ => Err(ParseError::custom(format!(
                "`{field}` must be a non-negative integer of at most 2^53-1 or \"{infinite}\""
            ))),
        },
        _ => Err(ParseError::custom(format!(
            "`{field}` must be a non-negative integer or \"{infinite}\""
        ))),
    }
}

fn register_time_schema<T: 'static>(
    registry: &mut Registry,
    name: &'static str,
    description: &'static str,
    field: &'static str,
    field_description: &'static str,
    infinite: &'static str,
) {
    registry.create_schema::<T, _>(name.to_owned(), |_| MetaSchema {
        description: Some(description),
        required: vec![field],
        // Exactly the one field: no others are accepted.
        max_properties: Some(1),
        properties: vec![(
            field,
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                description: Some(field_description),
                one_of: vec![
                    MetaSchemaRef::Inline(Box::new(MetaSchema {
                        minimum: Some(0.0),
                        maximum: Some(MAX_SAFE_INTEGER as f64),
                        ..MetaSchema::new_with_format("integer", "int64")
                    })),
                    MetaSchemaRef::Inline(Box::new(MetaSchema {
                        enum_items: vec![Value::String(infinite.to_owned())],
                        ..MetaSchema::new("string")
                    })),
                ],
                ..MetaSchema::ANY
            })),
        )],
        ..MetaSchema::new("object")
    });
}

macro_rules! object_type {
    ($ty:ty, $name:literal) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference($name.to_owned())
            }

            fn register(registry: &mut Registry) {
                <$ty>::register_schema(registry);
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}

object_type!(RelativeTime, "RelativeTime");
object_type!(Timestamp, "Timestamp");

impl RelativeTime {
    fn register_schema(registry: &mut Registry) {
        register_time_schema::<Self>(
            registry,
            "RelativeTime",
            "A duration: microseconds, or \"forever\".",
            "d_us",
            "Duration in microseconds, or \"forever\".",
            "forever",
        );
    }
}

impl Timestamp {
    fn register_schema(registry: &mut Registry) {
        register_time_schema::<Self>(
            registry,
            "Timestamp",
            "A point in time: seconds since the Unix epoch, or \"never\".",
            "t_s",
            "Seconds since the Unix epoch, or \"never\".",
            "never",
        );
    }
}

impl ParseFromJSON for RelativeTime {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(parse_time_object::<Self>(value, "d_us", "forever")?
            .map_or(RelativeTime::Forever, RelativeTime::Micros))
    }
}

impl ToJSON for RelativeTime {
    fn to_json(&self) -> Option<Value> {
        Some(match self {
            RelativeTime::Micros(us) => json!({ "d_us": us }),
            RelativeTime::Forever => json!({ "d_us": "forever" }),
        })
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(parse_time_object::<Self>(value, "t_s", "never")?
            .map_or(Timestamp::Never, Timestamp::Seconds))
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(match self {
            Timestamp::Seconds(s) => json!({ "t_s": s }),
            Timestamp::Never => json!({ "t_s": "never" }),
        })
    }
}

/// Serde goes through the same JSON forms as the API, for values stored as JSON.
macro_rules! serde_via_json {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serde::Serialize::serialize(&self.to_json(), s)
            }
        }

        deserialize_via_json!($ty);
    };
}

macro_rules! deserialize_via_json {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <Value as serde::Deserialize>::deserialize(d)?;
                <$ty>::parse_from_json(Some(value))
                    .map_err(|e| serde::de::Error::custom(e.into_message()))
            }
        }
    };
}

serde_via_json!(RelativeTime);
deserialize_via_json!(Timestamp);

/// `{"t_s": N}` or `{"t_s": "never"}`, the form `to_json` gives, written directly: every
/// row of a bank history has one.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        match self {
            Timestamp::Seconds(seconds) => map.serialize_entry("t_s", seconds)?,
            Timestamp::Never => map.serialize_entry("t_s", "never")?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fancy_relative_times_parse_as_gnunet_writes_them() {
        let p = RelativeTime::parse_fancy;
        assert_eq!(p("forever"), Some(RelativeTime::Forever));
        assert_eq!(
            p("10 years"),
            Some(RelativeTime::Micros(10 * 365 * 86_400_000_000))
        );
        assert_eq!(p("1 h 30 min"), Some(RelativeTime::Micros(5_400_000_000)));
        assert_eq!(p("90s"), Some(RelativeTime::Micros(90_000_000)));
        assert_eq!(p("1500"), Some(RelativeTime::Micros(1500)));
        assert_eq!(p("3 fortnights"), None);
        assert_eq!(p("h"), None);
        assert_eq!(p("99999999999 years"), Some(RelativeTime::Forever));
        assert_eq!(p("99999999999999999999999"), Some(RelativeTime::Forever));
        assert_eq!(p(""), Some(RelativeTime::Micros(0)));
        assert_eq!(
            p("4 seconds3s1h"),
            Some(RelativeTime::Micros(3_607_000_000))
        );
        assert_eq!(p("4 seconds x"), None);
    }

    /// Serde writes timestamps directly; what it writes is still their API form.
    #[test]
    fn timestamps_serialize_as_their_json_form() {
        for t in [
            Timestamp::Seconds(0),
            Timestamp::Seconds(1_795_458_251),
            Timestamp::Never,
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.to_json().unwrap());
            let back: Timestamp = serde_json::from_value(t.to_json().unwrap()).unwrap();
            assert_eq!(back, t);
        }
    }

    #[test]
    fn utc_days_of_the_year() {
        assert_eq!(utc_year_and_day(0), (1970, 1));
        assert_eq!(utc_year_and_day(1_795_458_251), (2026, 327));
        assert_eq!(utc_year_and_day(951_782_400), (2000, 60)); // 29 February 2000
        assert_eq!(utc_year_and_day(978_220_800), (2000, 366)); // 31 December 2000
    }

    #[test]
    fn utc_years() {
        assert_eq!(utc_year(0), 1970);
        assert_eq!(utc_year(951_782_399), 2000); // 2000-02-28T23:59:59
        assert_eq!(utc_year(978_307_199), 2000); // 2000-12-31T23:59:59
        assert_eq!(utc_year(978_307_200), 2001);
        assert_eq!(utc_year(1_795_000_000), 2026);
    }

    #[test]
    fn relative_time_round_trips() {
        for rt in [
            RelativeTime::Micros(0),
            RelativeTime::Micros(1_500_000),
            RelativeTime::Forever,
        ] {
            assert_eq!(RelativeTime::parse_from_json(rt.to_json()).unwrap(), rt);
        }
        assert_eq!(
            RelativeTime::Forever.to_json().unwrap(),
            json!({"d_us": "forever"})
        );
    }

    #[test]
    fn relative_time_rejects_bad_inputs() {
        for bad in [
            json!({"d_us": -1}),
            json!({"d_us": 1.5}),
            json!({"d_us": "never"}),
            json!({"d_us": "10"}),
            json!({"d_us": 9007199254740992u64}),
            json!({"t_s": 1}),
            json!({"d_us": 1, "x": 2}),
            json!({}),
            json!(5),
            json!(null),
        ] {
            assert!(
                RelativeTime::parse_from_json(Some(bad.clone())).is_err(),
                "{bad}"
            );
        }
        assert!(RelativeTime::parse_from_json(None).is_err());
    }

    #[test]
    fn timestamp_round_trips_and_rejects() {
        for ts in [
            Timestamp::Seconds(0),
            Timestamp::Seconds(1_700_000_000),
            Timestamp::Never,
        ] {
            assert_eq!(Timestamp::parse_from_json(ts.to_json()).unwrap(), ts);
            assert_eq!(Timestamp::from_db(ts.to_db()), ts);
        }
        assert!(Timestamp::parse_from_json(Some(json!({"t_s": "forever"}))).is_err());
        assert!(Timestamp::parse_from_json(Some(json!({"t_s": -5}))).is_err());
    }

    #[test]
    fn timestamp_addition_saturates() {
        assert_eq!(
            Timestamp::Seconds(10).plus(RelativeTime::Micros(2_000_000)),
            Timestamp::Seconds(12)
        );
        assert_eq!(
            Timestamp::Seconds(10).plus(RelativeTime::Forever),
            Timestamp::Never
        );
        assert_eq!(
            Timestamp::Seconds(MAX_SAFE_INTEGER).plus(RelativeTime::Micros(5_000_000)),
            Timestamp::Never
        );
    }
}

/// A `RelativeTime` whose page forbids "forever" (an instance's default delays): the
/// spec publishes the finite form only, so a client cannot be misled into sending it.
/// A "forever" that arrives anyway parses (as `None`), so the handler can refuse it
/// with a 400 that names its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiniteRelativeTime(pub Option<u64>);

impl Type for FiniteRelativeTime {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("RelativeTime(finite)")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("A `RelativeTime` in microseconds; \"forever\" is not allowed."),
            required: vec!["d_us"],
            max_properties: Some(1),
            properties: vec![(
                "d_us",
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    description: Some("Duration in microseconds."),
                    minimum: Some(0.0),
                    maximum: Some(MAX_SAFE_INTEGER as f64),
                    ..MetaSchema::new_with_format("integer", "int64")
                })),
            )],
            ..MetaSchema::new("object")
        }))
    }

    fn register(_: &mut Registry) {}

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for FiniteRelativeTime {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(FiniteRelativeTime(parse_time_object::<Self>(
            value, "d_us", "forever",
        )?))
    }
}

impl ToJSON for FiniteRelativeTime {
    fn to_json(&self) -> Option<Value> {
        Some(match self.0 {
            Some(us) => json!({ "d_us": us }),
            None => json!({ "d_us": "forever" }),
        })
    }
}
