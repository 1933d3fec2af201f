//! Row-id pagination (taler-docs `row-id-pagination`): `limit` rows after `offset`,
//! ascending for a positive limit, descending for a negative one; `offset` is exclusive.

use super::ApiError;

/// The default when a request names no limit: the 20 newest rows.
pub const DEFAULT_LIMIT: i64 = -20;
/// The most rows one page returns; larger limits are clamped to it.
pub const MAX_PAGE: i64 = 1024;

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
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Result<Page, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
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
        let p = Page::new(Some(5000), Some(7)).unwrap();
        assert_eq!((p.ascending, p.count, p.offset), (true, 1024, 7));
        assert_eq!(Page::new(Some(i64::MIN), None).unwrap().count, 1024);
    }

    #[test]
    fn rejects_zero_limit_and_negative_offset() {
        assert_eq!(Page::new(Some(0), None).unwrap_err().code(), 26);
        assert_eq!(Page::new(Some(1), Some(-1)).unwrap_err().code(), 26);
    }
}
