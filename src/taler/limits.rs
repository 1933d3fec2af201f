//! The limits on what a client sends, in one place. They are published in the specs
//! (`maxLength`, `maxItems`, `maxProperties` on every request schema that has no
//! tighter limit of its own) and enforced by the HTTP edge from the same constants,
//! identically on SQLite and PostgreSQL.

/// Characters in a text field, path segment or query value without a limit of its
/// own. Short enough that any text stays within PostgreSQL's b-tree row limit (2,704
/// bytes) when indexed, even at four bytes a character.
pub const MAX_TEXT_CHARS: usize = 512;

/// The longest a long poll waits (`timeout_ms`), whatever the client asks: ten
/// minutes, for every history and order status.
pub const MAX_LONG_POLL_MS: u64 = 600_000;

/// Items in an array without a limit of its own.
pub const MAX_ITEMS: usize = 256;

/// Entries in a map (`name_i18n`, ...) without a limit of its own.
pub const MAX_MAP_ENTRIES: usize = 64;

/// Characters in an image data URL (`logo`, product `image`): 256 KiB of text.
pub const MAX_IMAGE_CHARS: usize = 262_144;

/// "Not blank": at least one character that is not white space. Published as a class
/// of literal characters, because `\S` differs between ECMA-262 (JSON Schema's dialect),
/// Rust and Go (U+0085, U+FEFF) and Go's RE2, used by generated Go clients, knows no
/// `\u` escapes: the class is Rust's white space (which includes U+0085), read alike by
/// all three. U+FEFF stays out: Go refuses a byte-order mark inside a source file, and
/// generated Go clients copy patterns into their sources. Every `pattern` attribute that
/// means "not blank" spells this literal.
pub const NOT_BLANK: &str = "[^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]";

/// Webhooks one merchant instance may have.
pub const MAX_WEBHOOKS: usize = 64;

/// Characters in a webhook's `url`.
pub const MAX_WEBHOOK_URL_CHARS: usize = 2048;

/// Characters in a webhook's `header_template` or `body_template`, and in a delivery's
/// expanded header or body: 64 KiB of text.
pub const MAX_WEBHOOK_TEMPLATE_CHARS: usize = 65_536;

/// Webhook deliveries one server sends at once.
pub const WEBHOOK_CONCURRENCY: usize = 8;

/// How long one webhook delivery may take before it counts as failed.
pub const WEBHOOK_TIMEOUT_SECS: u64 = 10;

/// Attempts of one delivery (the first and its retries) before it is given up. Retries
/// wait 2, 4, 8, ... seconds, at most [`WEBHOOK_MAX_BACKOFF_SECS`].
pub const WEBHOOK_MAX_ATTEMPTS: i32 = 12;

/// The longest wait between two attempts of a delivery: one hour.
pub const WEBHOOK_MAX_BACKOFF_SECS: i64 = 3_600;

/// Longest a product lock holds its units (`private/products/$ID/lock`): a longer
/// `duration` is shortened to it, so a forgotten lock cannot hold stock for good.
pub const MAX_PRODUCT_LOCK_SECS: u64 = 86_400;
