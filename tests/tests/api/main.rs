//! Black-box tests of the API against moto: every request goes through the route table into the
//! function's handler as an API Gateway event, every answer is read as a client would read it.

mod account_deletion;
mod api_keys;
mod apps;
mod audit_trail;
mod authorizer;
mod bearer;
mod browser;
mod brute_force;
mod contract;
mod cookie;
mod cors;
mod costs;
mod discovery;
mod enumeration;
mod events;
mod failures;
mod key_rotation;
mod login;
mod magic_link;
mod management;
mod oauth_clients;
mod oauth_provider;
mod outbox;
mod password;
mod profile;
mod rate_limits;
mod refresh;
mod register;
mod resend;
mod session_lifetime;
mod sessions;
mod smoke;
mod social;
mod social_apps;
mod verify_email;
