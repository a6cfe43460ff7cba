//! The functions behind no route: the authorizer, the outbox and its mailer, the event samples.

mod authorizer;
mod outbox;
mod samples;
