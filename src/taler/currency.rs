//! `CurrencySpecification` (api-common): how clients should render a currency.

use std::collections::BTreeMap;

use poem_openapi::Object;

use crate::config::CurrencySpec;

/// Rendering hints for a currency; applications may ignore them.
#[derive(Debug, Clone, Object)]
pub struct CurrencySpecification {
    /// Name of the currency, e.g. "Kudos (Taler Demonstrator)".
    pub name: String,
    /// The currency code, e.g. "KUDOS" (the merchant backend sends it, and taler-php's
    /// `CurrencySpecification` factory requires it).
    pub currency: String,
    /// How many fractional digits the user may enter.
    pub num_fractional_input_digits: u32,
    /// How many fractional digits to render in normal font.
    pub num_fractional_normal_digits: u32,
    /// How many fractional digits to render even when they are zero.
    pub num_fractional_trailing_zero_digits: u32,
    /// Names of units by power of ten, e.g. {"0": "KUDOS", "3": "kKUDOS"}.
    pub alt_unit_names: BTreeMap<String, String>,
}

impl From<&CurrencySpec> for CurrencySpecification {
    fn from(spec: &CurrencySpec) -> Self {
        CurrencySpecification {
            name: spec.name.clone(),
            currency: spec.currency.clone(),
            num_fractional_input_digits: spec.num_fractional_input_digits,
            num_fractional_normal_digits: spec.num_fractional_normal_digits,
            num_fractional_trailing_zero_digits: spec.num_fractional_trailing_zero_digits,
            alt_unit_names: spec.alt_unit_names.clone(),
        }
    }
}
