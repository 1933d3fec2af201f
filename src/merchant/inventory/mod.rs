//! The inventory: `private/products` (the operations in `products`, a product's
//! details in `details`) and `private/categories`, and the stock that orders hold.

pub mod categories;
pub mod details;
pub mod locks;
pub mod pos;
pub mod products;
pub mod stock;
