//! Text fields with a published `pattern`, checked against the pattern compiled once.
//!
//! poem-openapi's `validator(pattern = ...)` compiles its regular expression on every
//! check: a quarter of the server's CPU on `POST .../private/pots`. A field of type
//! [`Text<P>`] publishes the same inline schema (`"type": "string"` with the pattern;
//! the field's own `max_length` and description still apply) and checks it with a
//! regular expression built once per pattern.

use std::{borrow::Cow, fmt, marker::PhantomData, ops::Deref, sync::LazyLock};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use regex::Regex;
use serde_json::Value;

/// A published pattern: its text and its compiled form.
pub trait TextPattern: Send + Sync + 'static {
    const PATTERN: &'static str;
    fn regex() -> &'static Regex;
}

/// Defines pattern markers, each compiling its pattern on first use.
macro_rules! text_patterns {
    ($($(#[$doc:meta])* $name:ident = $pattern:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum $name {}

            impl TextPattern for $name {
                const PATTERN: &'static str = $pattern;
                fn regex() -> &'static Regex {
                    static REGEX: LazyLock<Regex> =
                        LazyLock::new(|| Regex::new($pattern).expect("a valid pattern"));
                    &REGEX
                }
            }
        )*
    };
}

/// A payto URI: scheme, target type and a path without white space, `?` or `#`, then
/// an optional query without white space.
const PAYTO: &str = "^payto://[a-zA-Z0-9.-]+/[^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}?#]+([?][^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]*)?$";

text_patterns! {
    /// At least one character that is not white space ([`super::limits::NOT_BLANK`]).
    NotBlank = super::limits::NOT_BLANK;
    /// A payto URI as libeufin-bank accepts it.
    PaytoUri = PAYTO;
    /// Any payto URI (the merchant's bank accounts).
    AnyPaytoUri = r"^payto://[A-Za-z0-9.+-]+/.+$";
    /// An `http://` or `https://` URL, the scheme in any case.
    HttpUrl = r"^[Hh][Tt][Tt][Pp][Ss]?://";
    /// An image as a `data:` URL.
    ImageDataUrl = r"^data:image/";
    /// A 32-byte value in Crockford base32 (52 characters).
    Base32Crock32 = r"^[0-9A-HJKMNP-TV-Z]{52}$";
    /// A 64-byte value in Crockford base32 (103 characters).
    Base32Crock64 = r"^[0-9A-HJKMNP-TV-Z]{103}$";
    /// An RFC 4648 base32 key (OTP devices), padding allowed.
    Base32Key = r"^[A-Z2-7]+=*$";
    /// A libeufin-bank username.
    Username = r"^[a-zA-Z0-9._~-]{1,126}$";
    /// A merchant instance id.
    InstanceId = r"^[A-Za-z0-9][A-Za-z0-9_.@-]+$";
    /// An order id.
    OrderId = r"^[A-Za-z0-9.:_-]{1,64}$";
    /// An e-mail address: something, `@`, something.
    Email = "^[^@]+@[^@]+$";
    /// A phone number as libeufin-bank takes it: an optional `+` and digits (at most 32).
    Phone = "^\\+?[0-9]{1,32}$";
    /// A currency code.
    CurrencyCode = r"^[A-Z]{1,11}$";
    /// A quantity of units: up to 16 digits, optionally 6 decimals.
    UnitQuantity = r"^[0-9]{1,16}(\.[0-9]{1,6})?$";
    /// A stock of units, or `-1` for unlimited.
    UnitStock = r"^(-1|[0-9]{1,16}(\.[0-9]{1,6})?)$";
    /// `yes` or `no`, in any case.
    YesNo = r"^([Yy][Ee][Ss]|[Nn][Oo])$";
    /// `yes`, `no` or `all`, in any case.
    YesNoAll = "^([Yy][Ee][Ss]|[Nn][Oo]|[Aa][Ll][Ll])$";
}

/// Text that matches the pattern `P`.
pub struct Text<P>(String, PhantomData<fn() -> P>);

impl<P: TextPattern> Text<P> {
    /// `text` if it matches the pattern.
    pub fn new(text: String) -> Result<Self, String> {
        if P::regex().is_match(&text) {
            Ok(Text(text, PhantomData))
        } else {
            Err(format!("must match {}", P::PATTERN))
        }
    }

    /// A value this server checked when it stored it (answers show stored values).
    pub fn from_stored(text: String) -> Self {
        Text(text, PhantomData)
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<P> Clone for Text<P> {
    fn clone(&self) -> Self {
        Text(self.0.clone(), PhantomData)
    }
}

impl<P> fmt::Debug for Text<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<P> fmt::Display for Text<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<P> PartialEq for Text<P> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<P> Eq for Text<P> {}

impl<P> Deref for Text<P> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<P> AsRef<str> for Text<P> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<P> From<Text<P>> for String {
    fn from(text: Text<P>) -> String {
        text.0
    }
}

impl<P: TextPattern> Type for Text<P> {
    const IS_REQUIRED: bool = true;
    // `String`, so that a field's `max_length` and `min_length` validators apply.
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("string({})", P::PATTERN))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(P::PATTERN.to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<P: TextPattern> ParseFromJSON for Text<P> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Text::new(s).map_err(ParseError::custom),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl<P: TextPattern> ParseFromParameter for Text<P> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Text::new(value.to_owned()).map_err(ParseError::custom)
    }
}

impl<P: TextPattern> ToJSON for Text<P> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl<P> serde::Serialize for Text<P> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, P: TextPattern> serde::Deserialize<'de> for Text<P> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Text::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_the_pattern_and_publishes_it() {
        assert!(Text::<NotBlank>::new("tips".into()).is_ok());
        assert!(Text::<NotBlank>::new(" \t".into()).is_err());
        assert!(Text::<Base32Crock32>::new("0".repeat(52)).is_ok());
        assert!(Text::<Base32Crock32>::new("0".repeat(51)).is_err());
        let MetaSchemaRef::Inline(schema) = Text::<YesNo>::schema_ref() else {
            panic!("inline");
        };
        assert_eq!(schema.ty, "string");
        assert_eq!(schema.pattern.as_deref(), Some(YesNo::PATTERN));
    }
}
