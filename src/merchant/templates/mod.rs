//! Templates: `private` for the merchant's `[/instances/$INSTANCE]/private/templates
//! [/$TEMPLATE_ID]`, `wallet` for the public `[/instances/$INSTANCE]/templates/
//! $TEMPLATE_ID` that wallets read and use (`using`: the order a use asks for), the
//! template's contract (`contract`), the inventory a cart template offers
//! (`inventory_cart`, `inventory_payload`) and the OTP devices of points of sale.

pub mod contract;
pub mod inventory_cart;
pub mod inventory_payload;
pub mod otp_devices;
pub mod private;
pub mod using;
pub mod wallet;
