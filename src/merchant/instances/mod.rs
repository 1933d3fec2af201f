//! Instances and their access: the administrator's `management/instances`, an
//! instance's own `private` settings, its access tokens (`private/token`), how a
//! request is authorized, and `GET /config`.

pub mod auth;
pub mod config;
pub mod management;
pub mod settings;
pub mod tokens;
