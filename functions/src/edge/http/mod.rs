//! The HTTP edge shared by every endpoint: the app the path names, request id, size limit, body
//! decoding, the caller's address, and the one place where `shared::Error` becomes a status code,
//! headers and the contract's envelope. One structured log line per request.

mod failure;
mod fields;
mod reply;
mod serve;

pub use failure::*;
pub use fields::*;
pub use reply::*;
pub use serve::*;
