//! The contract terms of a new order: its deadlines, its merchant, its price fields
//! and the rest of the page's `ContractTerms`, with the salts of its forgettable fields.

use poem_openapi::types::ToJSON;
use serde_json::{Map, Value, json};

use crate::{
    merchant::{
        instances::settings::InstanceSettings,
        orders::terms::{ContractProduct, Order},
    },
    store::instances::Instance,
    taler::{Amount, ApiError, ErrorCode, RelativeTime, Timestamp, contract},
};

/// Nobody is older.
const MAX_MINIMUM_AGE: u64 = 120;

/// The contract's times: from the order where it sets them, else from the template's
/// pay duration and the instance's default delays.
pub struct Deadlines {
    pub timestamp: Timestamp,
    pub pay: Timestamp,
    pub refund: Timestamp,
    pub wire_transfer: Timestamp,
}

impl Deadlines {
    pub fn of(
        order: &Order,
        refund_delay: Option<RelativeTime>,
        pay_duration: Option<RelativeTime>,
        settings: &InstanceSettings,
        now: Timestamp,
    ) -> Result<Deadlines, ApiError> {
        let timestamp = order.timestamp.unwrap_or(now);
        let pay = order
            .pay_deadline
            .unwrap_or_else(|| timestamp.plus(pay_duration.unwrap_or(settings.default_pay_delay)));
        if pay < now {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersPayDeadlineInPast,
                "order.pay_deadline: is in the past",
            ));
        }
        let refund = order.refund_deadline.unwrap_or_else(|| {
            timestamp.plus(refund_delay.unwrap_or(settings.default_refund_delay))
        });
        if order
            .refund_deadline
            .is_some_and(|d| d < now && d != timestamp)
        {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersRefundDeadlineInPast,
                "order.refund_deadline: is in the past",
            ));
        }
        let wire_transfer = order
            .wire_transfer_deadline
            .unwrap_or_else(|| refund.max(pay).plus(settings.default_wire_transfer_delay));
        if wire_transfer == Timestamp::Never {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersWireDeadlineIsNever,
                "order.wire_transfer_deadline: must not be never",
            ));
        }
        if refund > wire_transfer {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersRefundAfterWireDeadline,
                "order.refund_deadline: is after the wire transfer deadline",
            ));
        }
        if order.delivery_date.is_some_and(|d| d < now) {
            return Err(ApiError::new(
                ErrorCode::MerchantPrivatePostOrdersDeliveryDateInPast,
                "order.delivery_date: is in the past",
            ));
        }
        Ok(Deadlines {
            timestamp,
            pay,
            refund,
            wire_transfer,
        })
    }
}

/// The contract's `merchant`: the instance's name and settings.
pub fn merchant_of(instance: &Instance, settings: &InstanceSettings) -> Value {
    let mut merchant = Map::new();
    merchant.insert("name".into(), json!(instance.name));
    for (key, value) in [
        ("email", &settings.email),
        ("website", &settings.website),
        ("logo", &settings.logo),
    ] {
        if let Some(v) = value {
            merchant.insert(key.into(), json!(v));
        }
    }
    merchant.insert("address".into(), to_value(&settings.address));
    merchant.insert("jurisdiction".into(), to_value(&settings.jurisdiction));
    Value::Object(merchant)
}

/// What the contract terms are built from, once each step has checked its part.
pub struct ContractParts<'a> {
    pub order: &'a Order,
    pub version: u64,
    pub amount: &'a Amount,
    pub currency: &'a str,
    pub order_id: &'a str,
    pub fulfillment_url: Option<&'a str>,
    pub deadlines: &'a Deadlines,
    pub products: &'a [ContractProduct],
    pub minimum_age: u64,
    pub merchant_base_url: String,
    pub merchant: Value,
    pub instance: &'a Instance,
    pub h_wire: &'a str,
    pub wire_method: &'a str,
}

/// The contract terms, in the order of the page's `ContractTerms`, with the salts of
/// their forgettable fields; refuses what cannot be hashed (floating-point numbers in
/// `extra`) now, not at the wallet's claim.
pub fn contract_terms(p: ContractParts<'_>) -> Result<Value, ApiError> {
    let order = p.order;
    let mut terms = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            terms.insert(key.to_owned(), v);
        }
    };
    for (key, value) in price_terms(order, p.version, p.amount, p.currency) {
        put(key, Some(value));
    }
    put("summary", Some(json!(order.summary)));
    put("summary_i18n", order.summary_i18n.as_ref().map(to_value));
    put("order_id", Some(json!(p.order_id)));
    put(
        "public_reorder_url",
        order.public_reorder_url.as_ref().map(to_value),
    );
    put("fulfillment_url", p.fulfillment_url.map(|u| json!(u)));
    put(
        "fulfillment_message",
        order.fulfillment_message.as_ref().map(to_value),
    );
    put(
        "fulfillment_message_i18n",
        order.fulfillment_message_i18n.as_ref().map(to_value),
    );
    put(
        "products",
        Some(Value::Array(
            p.products
                .iter()
                .map(|p| p.to_json().unwrap_or_default())
                .collect(),
        )),
    );
    put("timestamp", p.deadlines.timestamp.to_json());
    put("refund_deadline", p.deadlines.refund.to_json());
    put("pay_deadline", p.deadlines.pay.to_json());
    put(
        "wire_transfer_deadline",
        p.deadlines.wire_transfer.to_json(),
    );
    put("merchant_pub", Some(json!(p.instance.merchant_pub)));
    put("merchant_base_url", Some(json!(p.merchant_base_url)));
    put("merchant", Some(p.merchant));
    put("h_wire", Some(json!(p.h_wire)));
    put("wire_method", Some(json!(p.wire_method)));
    put("exchanges", Some(json!([])));
    // Gone from the newest page, but GNU Taler wallets up to 2023 (taler-util's
    // `codecForContractTerms`) refuse terms without it; newer ones ignore it.
    put("auditors", Some(json!([])));
    put(
        "delivery_location",
        order.delivery_location.as_ref().map(to_value),
    );
    put(
        "delivery_date",
        order.delivery_date.and_then(|d| d.to_json()),
    );
    put("auto_refund", order.auto_refund.and_then(|d| d.to_json()));
    let object = |m: &std::collections::BTreeMap<String, Value>| {
        Value::Object(m.clone().into_iter().collect())
    };
    put("extra", order.extra.as_ref().map(object));
    put(
        "minimum_age",
        (p.minimum_age > 0).then(|| json!(p.minimum_age)),
    );
    put("$forgettable", order.forgettable.as_ref().map(object));
    if p.minimum_age > MAX_MINIMUM_AGE {
        return Err(parse_error("minimum_age: must be at most 120"));
    }
    let mut terms = Value::Object(terms);
    contract::seed_forgettable(&mut terms).map_err(|e| parse_error(format!("order.{}", e.0)))?;
    contract::contract_hash(&terms).map_err(|e| parse_error(format!("order: {}", e.0)))?;
    Ok(terms)
}

/// The price fields of the terms: `amount` and `max_fee` (version 0), or `version`,
/// `choices` (without token inputs and outputs, `max_fee` zero if absent) and
/// `token_families` (version 1).
pub fn price_terms(
    order: &Order,
    version: u64,
    amount: &Amount,
    currency: &str,
) -> Vec<(&'static str, Value)> {
    let zero = || Amount::zero(currency).expect("configured currency");
    if version == 0 {
        let max_fee = order.max_fee.clone().unwrap_or_else(zero);
        return vec![
            ("amount", json!(amount.to_string())),
            ("max_fee", json!(max_fee.to_string())),
        ];
    }
    let choices: Vec<Value> = order
        .choices
        .iter()
        .flatten()
        .map(|c| {
            let mut choice = c.to_json().unwrap_or_default();
            choice["inputs"] = json!([]);
            choice["outputs"] = json!([]);
            if c.max_fee.is_none() {
                choice["max_fee"] = json!(zero().to_string());
            }
            choice
        })
        .collect();
    vec![
        ("version", json!(1)),
        ("choices", Value::Array(choices)),
        ("token_families", json!({})),
    ]
}

pub fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The order cannot become contract terms: the hint says why.
pub fn parse_error(hint: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::MerchantPrivatePostOrdersProposalParseError, hint)
}
