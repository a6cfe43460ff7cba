//! Signing up and in: registration, verification, login, refresh, sessions and their lifetime,
//! passwords, magic links, brute force.

mod brute_force;
mod login;
mod magic_link;
mod password;
mod refresh;
mod register;
mod resend;
mod session_lifetime;
mod sessions;
mod verify_email;
