//! The inventory: `private/products` and `private/categories`, and the stock that
//! orders hold.

pub mod categories;
pub mod products;
pub mod stock;
