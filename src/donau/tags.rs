//! The tags that group the Donau spec's operations.

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Protocol version and configuration.
    Configuration,
    /// The charity registry (administrator).
    Charities,
    /// The Donau's keys.
    Keys,
    /// Receipts: issued to charities, submitted by donors, summed in statements.
    Receipts,
}
