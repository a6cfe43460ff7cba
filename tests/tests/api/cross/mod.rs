//! Across every area: the contract between template, router and table, costs, enumeration,
//! failures, key rotation, rate limits, and the smoke test through `cargo lambda watch`.

mod contract;
mod costs;
mod enumeration;
mod failures;
mod key_rotation;
mod rate_limits;
pub(crate) mod smoke;
