//! Black-box tests of the API against moto: every request goes through the route table into the
//! function's handler as an API Gateway event, every answer is read as a client would read it.

mod account;
mod admin;
mod auth;
mod console;
mod cross;
pub(crate) mod dashboard;
mod discovery;
mod edge;
mod events;
pub(crate) mod mfa;
pub(crate) mod provider;
mod social;
