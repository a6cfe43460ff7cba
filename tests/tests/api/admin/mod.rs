//! The management API.

mod management;
