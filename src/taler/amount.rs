//! Taler `Amount`: `CURRENCY:VALUE[.FRACTION]`, held exactly as integers.

use std::{cmp::Ordering, fmt, str::FromStr};

use poem_openapi::registry::{MetaSchema, Registry};
use serde_json::Value;

/// Largest integer part Taler allows (2^52).
pub const MAX_VALUE: u64 = 1 << 52;
/// Units of the fraction per unit of value: the fraction has eight decimal digits.
pub const FRACTION_BASE: u32 = 100_000_000;
/// Longest currency code.
pub const MAX_CURRENCY_LEN: usize = 11;

/// The published pattern, exact to the value limit: up to 15 digits, or 16 digits of
/// at most 4503599627370496 (2^52), spelled out digit by digit.
const PATTERN: &str = concat!(
    r"^[A-Z]{1,11}:([0-9]{1,15}|[0-3][0-9]{15}|4[0-4][0-9]{14}|450[0-2][0-9]{12}",
    r"|4503[0-4][0-9]{11}|45035[0-8][0-9]{10}|450359[0-8][0-9]{9}|4503599[0-5][0-9]{8}",
    r"|45035996[0-1][0-9]{7}|450359962[0-6][0-9]{6}|4503599627[0-2][0-9]{5}",
    r"|45035996273[0-6][0-9]{4}|4503599627370[0-3][0-9]{2}|45035996273704[0-8][0-9]",
    r"|450359962737049[0-5]|4503599627370496)(\.[0-9]{1,8})?$"
);

/// An exact amount of money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amount {
    currency: String,
    value: u64,
    fraction: u32,
}

/// Why a string is not an amount; the text is what a client sees as the hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountError(pub &'static str);

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AmountError {}

/// Checks a currency code: 1 to 11 letters A–Z.
pub fn check_currency(currency: &str) -> Result<(), AmountError> {
    if currency.is_empty() || currency.len() > MAX_CURRENCY_LEN {
        return Err(AmountError("currency must have 1 to 11 characters"));
    }
    if !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AmountError("currency must consist of the letters A-Z"));
    }
    Ok(())
}

impl Amount {
    /// An amount from its parts, checked against Taler's limits.
    pub fn new(currency: &str, value: u64, fraction: u32) -> Result<Self, AmountError> {
        check_currency(currency)?;
        if value > MAX_VALUE {
            return Err(AmountError("value exceeds 2^52"));
        }
        if fraction >= FRACTION_BASE {
            return Err(AmountError("fraction must be below 10^8"));
        }
        Ok(Amount {
            currency: currency.to_owned(),
            value,
            fraction,
        })
    }

    pub fn zero(currency: &str) -> Result<Self, AmountError> {
        Self::new(currency, 0, 0)
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The integer part.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The fractional part in units of 10^-8.
    pub fn fraction(&self) -> u32 {
        self.fraction
    }

    pub fn is_zero(&self) -> bool {
        self.value == 0 && self.fraction == 0
    }

    /// The sum, or `None` for different currencies or a result beyond 2^52.
    pub fn checked_add(&self, other: &Amount) -> Option<Amount> {
        if self.currency != other.currency {
            return None;
        }
        let fraction = self.fraction + other.fraction;
        let value = self
            .value
            .checked_add(other.value)?
            .checked_add(u64::from(fraction / FRACTION_BASE))?;
        Amount::new(&self.currency, value, fraction % FRACTION_BASE).ok()
    }

    /// The difference, or `None` for different currencies or a negative result.
    pub fn checked_sub(&self, other: &Amount) -> Option<Amount> {
        if self.currency != other.currency {
            return None;
        }
        let (mut value, mut fraction) = (self.value, self.fraction);
        if fraction < other.fraction {
            value = value.checked_sub(1)?;
            fraction += FRACTION_BASE;
        }
        let value = value.checked_sub(other.value)?;
        Amount::new(&self.currency, value, fraction - other.fraction).ok()
    }

    /// The price of `millionths` millionths of a unit at `self` per unit, rounded up to
    /// the next 10^-8 (a quantity has six fraction digits, a price eight, so the exact
    /// product may have fourteen); `None` beyond Taler's limits.
    pub fn times_millionths(&self, millionths: u128) -> Option<Amount> {
        let units = u128::from(self.value) * u128::from(FRACTION_BASE) + u128::from(self.fraction);
        let total = units.checked_mul(millionths)?.div_ceil(1_000_000);
        let base = u128::from(FRACTION_BASE);
        let value = u64::try_from(total / base).ok()?;
        Amount::new(&self.currency, value, (total % base) as u32).ok()
    }

    /// Compares two amounts of the same currency; `None` across currencies.
    pub fn cmp_same_currency(&self, other: &Amount) -> Option<Ordering> {
        (self.currency == other.currency)
            .then(|| (self.value, self.fraction).cmp(&(other.value, other.fraction)))
    }
}

/// Refuses an amount in any currency but the service's (`TALER_EC_GENERIC_CURRENCY_MISMATCH`).
pub fn require_currency(
    amount: &Amount,
    currency: &str,
    field: &str,
) -> Result<(), super::error::ApiError> {
    if amount.currency() == currency {
        return Ok(());
    }
    Err(super::error::ApiError::new(
        super::error::ErrorCode::GenericCurrencyMismatch,
        format!(
            "`{field}` is in {}, but this service uses {currency}",
            amount.currency()
        ),
    )
    .parameter(field)
    .currency(amount.currency()))
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (currency, number) = s.split_once(':').ok_or(AmountError(
            "amount must have the form CURRENCY:VALUE[.FRACTION]",
        ))?;
        check_currency(currency)?;
        let (int, frac) = match number.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (number, None),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError("value must be a non-negative decimal integer"));
        }
        // More than 16 digits is beyond 2^52 whatever they are; refuse before parsing.
        if int.len() > 16 {
            return Err(AmountError("value exceeds 2^52"));
        }
        let value: u64 = int.parse().map_err(|_| AmountError("value exceeds 2^52"))?;
        let fraction = match frac {
            None => 0,
            Some(f) => {
                if f.is_empty() || f.len() > 8 || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AmountError("fraction must have 1 to 8 decimal digits"));
                }
                let digits: u32 = f.parse().expect("checked digits");
                digits * 10u32.pow(8 - f.len() as u32)
            }
        };
        Amount::new(currency, value, fraction)
    }
}

impl fmt::Display for Amount {
    /// Canonical form: no trailing zeros in the fraction, no fraction when it is zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.currency, self.value)?;
        if self.fraction != 0 {
            let digits = format!("{:08}", self.fraction);
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Registers a named string schema (Taler's string-encoded types) and refers to it.
pub(crate) fn register_string_schema<T: 'static>(
    registry: &mut Registry,
    name: &'static str,
    description: &'static str,
    pattern: &'static str,
    example: &'static str,
) {
    registry.create_schema::<T, _>(name.to_owned(), |_| MetaSchema {
        description: Some(description),
        pattern: Some(pattern.to_owned()),
        example: Some(Value::String(example.to_owned())),
        ..MetaSchema::new("string")
    });
}

/// Implements the poem-openapi traits of a type that travels as a string and
/// is published as a named schema.
macro_rules! string_type {
    ($ty:ty, $name:literal, $description:expr, $pattern:expr, $example:literal) => {
        impl ::poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed($name)
            }

            fn schema_ref() -> ::poem_openapi::registry::MetaSchemaRef {
                ::poem_openapi::registry::MetaSchemaRef::Reference($name.to_owned())
            }

            fn register(registry: &mut ::poem_openapi::registry::Registry) {
                $crate::taler::amount::register_string_schema::<Self>(
                    registry,
                    $name,
                    $description,
                    $pattern,
                    $example,
                );
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ::poem_openapi::types::ParseFromJSON for $ty {
            fn parse_from_json(
                value: Option<::serde_json::Value>,
            ) -> ::poem_openapi::types::ParseResult<Self> {
                match value {
                    Some(::serde_json::Value::String(s)) => {
                        s.parse().map_err(::poem_openapi::types::ParseError::custom)
                    }
                    Some(other) => Err(::poem_openapi::types::ParseError::expected_type(other)),
                    None => Err(::poem_openapi::types::ParseError::expected_input()),
                }
            }
        }

        impl ::poem_openapi::types::ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> ::poem_openapi::types::ParseResult<Self> {
                value
                    .parse()
                    .map_err(::poem_openapi::types::ParseError::custom)
            }
        }

        impl ::poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<::serde_json::Value> {
                Some(::serde_json::Value::String(self.to_string()))
            }
        }
    };
}
pub(crate) use string_type;

string_type!(
    Amount,
    "Amount",
    "An amount of money: `CURRENCY:VALUE[.FRACTION]`. The currency has 1 to 11 letters A-Z, \
     the value is an integer of at most 2^52, the optional fraction has 1 to 8 decimal digits. \
     Amounts are exact; responses use the canonical form without trailing zeros.",
    PATTERN,
    "KUDOS:10.5"
);

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::types::{ParseFromJSON, ToJSON};

    fn a(s: &str) -> Amount {
        s.parse().unwrap()
    }

    #[test]
    fn published_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(PATTERN).unwrap();
        for text in [
            "KUDOS:0",
            "KUDOS:4503599627370496",
            "KUDOS:4503599627370497",
            "KUDOS:4503599627370500",
            "KUDOS:0004503599627370",
            "KUDOS:999999999999999",
            "KUDOS:9999999999999999",
            "KUDOS:1.12345678",
            "KUDOS:1.123456789",
            "KUDOS:1.",
            "K:1",
            "ABCDEFGHIJKL:1",
            "kudos:1",
        ] {
            assert_eq!(
                pattern.is_match(text),
                text.parse::<Amount>().is_ok(),
                "{text}"
            );
        }
        // Every 16-digit value around each digit boundary of 2^52.
        let limit: u64 = 1 << 52;
        for step in 0..16 {
            let scale = 10u64.pow(step);
            for v in [limit - scale, limit + scale, limit, limit - 1, limit + 1] {
                let text = format!("KUDOS:{v:016}");
                assert_eq!(pattern.is_match(&text), v <= limit, "{text}");
                assert_eq!(text.parse::<Amount>().is_ok(), v <= limit, "{text}");
            }
        }
    }

    #[test]
    fn parses_and_formats_canonically() {
        assert_eq!(a("EUR:1.50").to_string(), "EUR:1.5");
        assert_eq!(a("EUR:1").to_string(), "EUR:1");
        assert_eq!(a("EUR:0.00000001").fraction(), 1);
        assert_eq!(a("KUDOS:4503599627370496").value(), MAX_VALUE);
        assert_eq!(a("ABCDEFGHIJK:0.1").currency(), "ABCDEFGHIJK");
        assert_eq!(a("EUR:007").to_string(), "EUR:7");
    }

    #[test]
    fn rejects_bad_inputs() {
        for bad in [
            "EUR",
            "EUR:",
            ":1",
            "eur:1",
            "EUR:-1",
            "EUR:+1",
            "EUR:1.",
            "EUR:.5",
            "EUR:1.123456789",
            "EUR:4503599627370497",
            "EUR:99999999999999999999999",
            "ABCDEFGHIJKL:1",
            "EU1:1",
            "EUR:1,5",
            "EUR:1.5x",
            "EUR: 1",
            "EUR:1e3",
        ] {
            assert!(bad.parse::<Amount>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn adds_and_subtracts_exactly() {
        assert_eq!(
            a("EUR:0.7").checked_add(&a("EUR:0.6")).unwrap(),
            a("EUR:1.3")
        );
        assert_eq!(
            a("EUR:1.3").checked_sub(&a("EUR:0.6")).unwrap(),
            a("EUR:0.7")
        );
        assert_eq!(a("EUR:1").checked_sub(&a("EUR:1")).unwrap(), a("EUR:0"));
        assert!(a("EUR:1").checked_sub(&a("EUR:1.00000001")).is_none());
        assert!(a("EUR:1").checked_add(&a("USD:1")).is_none());
        let max = a("EUR:4503599627370496");
        // Taler bounds the integer part only: 2^52 plus a fraction is still valid.
        assert_eq!(
            max.checked_add(&a("EUR:0.5")).unwrap().to_string(),
            "EUR:4503599627370496.5"
        );
        assert!(max.checked_add(&a("EUR:1")).is_none());
        assert!(
            a("EUR:4503599627370496.6")
                .checked_add(&a("EUR:0.4"))
                .is_none()
        );
        assert_eq!(
            a("EUR:4503599627370495.5")
                .checked_add(&a("EUR:0.5"))
                .unwrap(),
            max
        );
    }

    #[test]
    fn foreign_currency_is_refused_with_currency_mismatch() {
        assert!(require_currency(&a("KUDOS:1"), "KUDOS", "amount").is_ok());
        let err = require_currency(&a("EUR:1"), "KUDOS", "amount").unwrap_err();
        assert_eq!((err.status.as_u16(), err.code()), (400, 30));
        assert_eq!(err.detail.currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn compares_within_a_currency() {
        assert_eq!(
            a("EUR:1.1").cmp_same_currency(&a("EUR:1.09")),
            Some(Ordering::Greater)
        );
        assert_eq!(a("EUR:1").cmp_same_currency(&a("USD:1")), None);
    }

    #[test]
    fn json_round_trip_uses_strings() {
        let v = a("EUR:3.25").to_json().unwrap();
        assert_eq!(v, Value::String("EUR:3.25".into()));
        assert_eq!(Amount::parse_from_json(Some(v)).unwrap(), a("EUR:3.25"));
        assert!(Amount::parse_from_json(Some(serde_json::json!(3.25))).is_err());
    }
}
