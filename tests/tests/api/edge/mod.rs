//! The HTTP edge: CORS, the refresh cookie, bearer checks without an authorizer.

mod bearer;
mod cookie;
mod cors;
