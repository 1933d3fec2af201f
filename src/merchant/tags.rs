//! The tags that group the merchant spec's operations (one per page family).

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Protocol version and configuration.
    Configuration,
    /// Instance management (administrator).
    Instances,
    /// Access tokens of an instance.
    Authentication,
    /// Money pots: named totals for merchant-internal accounting.
    Pots,
    /// Periodic reports, generated and delivered on schedule.
    Reports,
    /// Order templates (fixed-order, inventory-cart, paivana), private and for wallets.
    Templates,
    /// OTP devices that confirm payments at a point of sale.
    OtpDevices,
    /// Products and their categories.
    Inventory,
    /// Orders: created by the merchant or from a template, claimed by wallets.
    Orders,
    /// Bank accounts of an instance, named by the contracts of its orders.
    Accounts,
    /// Webhooks: HTTP requests the backend makes when an event happens.
    Webhooks,
}
