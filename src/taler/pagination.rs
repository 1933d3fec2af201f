//! Row-id pagination (taler-docs `row-id-pagination`): `limit` rows after `offset`,
//! ascending for a positive limit, descending for a negative one; `offset` is exclusive.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};

use super::error::ApiError;

/// The default when a request names no limit: the 20 newest rows.
pub const DEFAULT_LIMIT: i64 = -20;
/// The most rows one page returns; larger limits are clamped to it.
pub const MAX_PAGE: i64 = 1024;

/// The `limit` query parameter: a non-zero row count, negative to walk towards lower
/// row ids. Published as an `int64` that is at most -1 or at least 1, so a client
/// generated from the spec knows 0 is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(pub i64);

impl Type for PageLimit {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("integer(int64, non-zero)")
    }

    fn schema_ref() -> MetaSchemaRef {
        let bound = |schema: MetaSchema| MetaSchemaRef::Inline(Box::new(schema));
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            one_of: vec![
                bound(MetaSchema {
                    maximum: Some(-1.0),
                    ..MetaSchema::ANY
                }),
                bound(MetaSchema {
                    minimum: Some(1.0),
                    ..MetaSchema::ANY
                }),
            ],
            ..MetaSchema::new_with_format("integer", "int64")
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

impl ParseFromParameter for PageLimit {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match value.parse::<i64>() {
            Ok(0) => Err(ParseError::custom("limit must not be zero")),
            Ok(limit) => Ok(PageLimit(limit)),
            Err(e) => Err(ParseError::custom(e)),
        }
    }
}

/// One page of a row-id ordered listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Walk towards higher row ids.
    pub ascending: bool,
    /// How many rows at most.
    pub count: u64,
    /// Rows strictly after this id in the direction of travel.
    pub offset: i64,
}

impl Page {
    /// Checks `limit` and `offset`: a limit of zero or a negative offset is
    /// 400 `TALER_EC_GENERIC_PARAMETER_MALFORMED`.
    pub fn new(limit: Option<PageLimit>, offset: Option<i64>) -> Result<Page, ApiError> {
        Page::with_default(limit, offset, DEFAULT_LIMIT)
    }

    /// How long a long poll on this page may wait: only an ascending page waits (new
    /// rows come after the newest), so a descending one answers at once.
    pub fn wait_ms(&self, timeout_ms: Option<u64>) -> u64 {
        if self.ascending {
            timeout_ms.unwrap_or(0)
        } else {
            0
        }
    }

    /// As `new`, for listings whose page names another default limit.
    pub fn with_default(
        limit: Option<PageLimit>,
        offset: Option<i64>,
        default: i64,
    ) -> Result<Page, ApiError> {
        let limit = limit.map_or(default, |l| l.0);
        if limit == 0 {
            return Err(ApiError::malformed("limit", "limit must not be zero"));
        }
        let ascending = limit > 0;
        let offset = match offset {
            Some(o) if o < 0 => {
                return Err(ApiError::malformed("offset", "offset must not be negative"));
            }
            Some(o) => o,
            None if ascending => 0,
            None => i64::MAX,
        };
        Ok(Page {
            ascending,
            count: limit.unsigned_abs().min(MAX_PAGE as u64),
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_twenty_newest() {
        let p = Page::new(None, None).unwrap();
        assert_eq!((p.ascending, p.count, p.offset), (false, 20, i64::MAX));
    }

    #[test]
    fn ascending_starts_after_offset_and_clamps() {
        let p = Page::new(Some(PageLimit(5000)), Some(7)).unwrap();
        assert_eq!((p.ascending, p.count, p.offset), (true, 1024, 7));
        assert_eq!(
            Page::new(Some(PageLimit(i64::MIN)), None).unwrap().count,
            1024
        );
    }

    #[test]
    fn rejects_zero_limit_and_negative_offset() {
        assert_eq!(Page::new(Some(PageLimit(0)), None).unwrap_err().code(), 26);
        assert_eq!(
            Page::new(Some(PageLimit(1)), Some(-1)).unwrap_err().code(),
            26
        );
    }
}
