//! The limits on what a client sends, in one place. They are published in the specs
//! (`maxLength`, `maxItems`, `maxProperties` on every request schema that has no
//! tighter limit of its own) and enforced by the HTTP edge from the same constants,
//! identically on SQLite and PostgreSQL.

/// Characters in a text field, path segment or query value without a limit of its
/// own. Short enough that any text stays within PostgreSQL's b-tree row limit (2,704
/// bytes) when indexed, even at four bytes a character.
pub const MAX_TEXT_CHARS: usize = 512;

/// Items in an array without a limit of its own.
pub const MAX_ITEMS: usize = 256;

/// Entries in a map (`name_i18n`, ...) without a limit of its own.
pub const MAX_MAP_ENTRIES: usize = 64;

/// Characters in an image data URL (`logo`, product `image`): 256 KiB of text.
pub const MAX_IMAGE_CHARS: usize = 262_144;
