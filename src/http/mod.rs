//! The HTTP edge shared by all services, one file per concern: request ids and the
//! access log (`edge`), request bodies (`body`, `well_formed`), strict JSON bodies
//! (`json_body`, `strict`), every error as an `ErrorDetail` (`errors`), what a spec says
//! about its paths (`routes`), the published spec (`spec`), and one service behind the
//! edge (`service`). It knows no service: what a service needs of it, it hands over at
//! start-up (`body::FormRoute`).

pub mod body;
pub mod edge;
pub mod errors;
pub mod json_body;
pub mod public;
pub mod routes;
pub mod service;
pub mod spec;
pub mod strict;
pub mod well_formed;

pub use body::FormRoute;
pub use edge::TalerEdge;
pub use errors::{BodyErrorPolicy, MissingAuth, error_response, panic_response};
pub use json_body::JsonBody;
pub use public::PublicBase;
pub use routes::{AllowedMethods, percent_decode};
pub use service::{NoContent, Published, published_endpoint, service_endpoint};
pub use spec::{operations_mut, published_spec, published_spec_with};
