//! Domain types parsed at the edge ("parse, don't validate"): once a handler holds an `Email` or a
//! `NewPassword`, the rules of `API.md` have been applied and nothing further down checks again.

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, FieldErrors};
use crate::settings::PasswordPolicyKind;

/// No display names (`Name <a@b>`), no IP literals, a dotted domain.
const STRICT_EMAIL: email_address::Options =
    email_address::Options { minimum_sub_domains: 2, allow_domain_literal: false, allow_display_text: false };

/// An email address as the user typed it (trimmed), with its normalised form for look-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    /// Trims, then checks the address. Control characters (CR/LF above all, which would let a
    /// caller inject mail headers) and spaces are refused outright.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("required");
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err("too_long");
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("invalid_email");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("invalid_email");
        };
        // email_address checks RFC 5322 syntax; we additionally want a dotted domain (a mailbox
        // that SES can reach) and no quoted local parts or IP literals, which no real user types.
        if local.is_empty()
            || local.contains('"')
            || !domain.contains('.')
            || domain.starts_with('[')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || email_address::EmailAddress::parse_with_options(s, STRICT_EMAIL).is_err()
        {
            return Err("invalid_email");
        }
        Ok(Email { display: s.to_owned(), normalized: normalize(s) })
    }

    /// A search prefix of an address, normalised as stored addresses are (trimmed, ASCII letters
    /// lower-cased), so that it matches what `normalized` holds.
    pub fn normalize_prefix(raw: &str) -> String {
        normalize(raw.trim())
    }

    /// Rebuilds an address read back from the store (already parsed once).
    pub fn from_stored(display: String) -> Self {
        let normalized = normalize(&display);
        Email { display, normalized }
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form every comparison and key uses.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// The form under which an address is unique: ASCII letters lower-cased, every other character
/// kept as typed. Unicode case folding would merge addresses that mail servers keep apart (U+212A
/// KELVIN SIGN folds to `k`, so `\u{212A}im@x.com` would take over `kim@x.com`'s account and
/// reset mails), and no normalisation form is applied for the same reason.
fn normalize(address: &str) -> String {
    address.to_ascii_lowercase()
}

/// A password that satisfied the policy. Its text is only reachable through `expose`, so that it
/// cannot end up in a `Debug` print or a log line by accident.
pub struct NewPassword(SecretString);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

pub const PASSWORD_MAX_CHARS: usize = 128;

impl NewPassword {
    /// Applies the password policy. `context` holds what an attacker would guess first (the
    /// email, the name): the estimator treats words from it as known.
    ///
    /// Returns every rule that failed, in a stable order, so a client can show them all at once.
    pub fn parse(raw: &str, policy: PasswordPolicyKind, context: &[&str]) -> Result<Self, Vec<&'static str>> {
        let chars = raw.chars().count();
        let min = match policy {
            PasswordPolicyKind::Default => 8,
            PasswordPolicyKind::Nist => 15,
        };
        let mut failed = Vec::new();
        if chars < min {
            failed.push(match policy {
                PasswordPolicyKind::Default => "min_length_8",
                PasswordPolicyKind::Nist => "min_length_15",
            });
        }
        if chars > PASSWORD_MAX_CHARS {
            // Refused before any other work: an over-long input must not cost an estimator run
            // or a hash.
            return Err(vec!["max_length_128"]);
        }
        if policy == PasswordPolicyKind::Default {
            if !raw.chars().any(char::is_lowercase) {
                failed.push("lowercase");
            }
            if !raw.chars().any(char::is_uppercase) {
                failed.push("uppercase");
            }
            if !raw.chars().any(|c| c.is_ascii_digit()) {
                failed.push("digit");
            }
        }
        if chars > 0 && is_guessable(raw, context) {
            failed.push("not_common");
        }
        if failed.is_empty() { Ok(NewPassword(SecretString::from(raw.to_owned()))) } else { Err(failed) }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// zxcvbn scores 0..=4; 3 ("safely unguessable: moderate protection from offline slow-hash
/// scenario") is what Dropbox, who wrote it, recommend as the floor for a sign-up form.
fn is_guessable(password: &str, context: &[&str]) -> bool {
    let mut inputs: Vec<&str> = Vec::new();
    for item in context {
        inputs.push(item);
        // The local part and the words of a name are guessed separately too.
        for part in item.split(|c: char| !c.is_alphanumeric()) {
            if part.len() >= 3 {
                inputs.push(part);
            }
        }
    }
    let entropy = zxcvbn::zxcvbn(password, &inputs);
    u8::from(entropy.score()) < 3
}

/// Optional profile fields of a user, each trimmed and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub name: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
}

impl Profile {
    /// Checks each present field; collects the failures into `errors`.
    pub fn parse(
        name: Option<&str>,
        username: Option<&str>,
        first_name: Option<&str>,
        last_name: Option<&str>,
        company_name: Option<&str>,
        errors: &mut FieldErrors,
    ) -> Profile {
        Profile {
            name: text_field("name", name, 100, errors),
            username: username_field(username, errors),
            first_name: text_field("first_name", first_name, 100, errors),
            last_name: text_field("last_name", last_name, 100, errors),
            company_name: text_field("company_name", company_name, 200, errors),
        }
    }

    /// Checks one profile field's value (`name`, `username`, `first_name`, `last_name` or
    /// `company_name`); `None` when it is blank or broke a rule (recorded in `errors`).
    pub fn parse_field(field: &str, value: &str, errors: &mut FieldErrors) -> Option<String> {
        match field {
            "username" => username_field(Some(value), errors),
            "company_name" => text_field(field, Some(value), 200, errors),
            _ => text_field(field, Some(value), 100, errors),
        }
    }

    /// Words an attacker would try first in a password.
    pub fn guessable_words(&self) -> Vec<&str> {
        [&self.name, &self.username, &self.first_name, &self.last_name, &self.company_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

fn text_field(field: &str, value: Option<&str>, max: usize, errors: &mut FieldErrors) -> Option<String> {
    let v = value?.trim();
    if v.is_empty() {
        return None;
    }
    let mut rules = Vec::new();
    if v.chars().count() > max {
        rules.push(format!("max_length_{max}"));
    }
    // Names appear in mail subjects and bodies: no control characters (no header injection).
    if v.chars().any(char::is_control) {
        rules.push("no_control_characters".to_owned());
    }
    if rules.is_empty() {
        Some(v.to_owned())
    } else {
        errors.entry(field.to_owned()).or_default().extend(rules);
        None
    }
}

fn username_field(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let v = value?.trim();
    if v.is_empty() {
        return None;
    }
    let ok_len = (3..=32).contains(&v.chars().count());
    let ok_chars = v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok_len && ok_chars {
        Some(v.to_owned())
    } else {
        let rule = if ok_len { "allowed_characters" } else { "length_3_to_32" };
        errors.entry("username".to_owned()).or_default().push(rule.to_owned());
        None
    }
}

/// Collects field errors while a request is parsed, then yields the value or every failure.
pub fn finish<T>(value: T, errors: FieldErrors) -> Result<T, Error> {
    if errors.is_empty() { Ok(value) } else { Err(Error::Validation(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_normalised() {
        let e = Email::parse("  Alice.Smith@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Alice.Smith@Example.COM");
        assert_eq!(e.normalized(), "alice.smith@example.com");
    }

    #[test]
    fn only_ascii_letters_are_folded() {
        let kelvin = Email::parse("\u{212A}im@example.com").unwrap();
        assert_eq!(kelvin.normalized(), "\u{212A}im@example.com");
        assert_ne!(kelvin.normalized(), Email::parse("kim@example.com").unwrap().normalized());
        assert_eq!(Email::parse("ÉLAN@Example.com").unwrap().normalized(), "Élan@example.com");
        assert_eq!(Email::from_stored("\u{212A}IM@X.com".into()).normalized(), "\u{212A}im@x.com");
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "plain",
            "a@b",
            "a@.com",
            "@example.com",
            "a b@example.com",
            "a@example.com\r\nBcc: x@evil.com",
            "a\n@example.com",
            "\"q\"@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err("too_long"));
    }

    #[test]
    fn strong_password_passes_default_policy() {
        assert!(NewPassword::parse("Correct-Horse-7-Battery", PasswordPolicyKind::Default, &[]).is_ok());
    }

    #[test]
    fn each_failed_rule_is_listed() {
        let err = NewPassword::parse("abc", PasswordPolicyKind::Default, &[]).unwrap_err();
        assert_eq!(err, vec!["min_length_8", "uppercase", "digit", "not_common"]);
    }

    #[test]
    fn common_passwords_are_refused_even_when_composed() {
        let err = NewPassword::parse("Password1", PasswordPolicyKind::Default, &[]).unwrap_err();
        assert_eq!(err, vec!["not_common"]);
    }

    #[test]
    fn the_users_own_words_count_as_guessable() {
        let ctx = ["zed.xylophonic@example.com", "Zed Xylophonic"];
        let own_words = "Xylophonic77";
        assert!(NewPassword::parse(own_words, PasswordPolicyKind::Default, &[]).is_ok());
        assert_eq!(
            NewPassword::parse(own_words, PasswordPolicyKind::Default, &ctx).unwrap_err(),
            vec!["not_common"]
        );
    }

    #[test]
    fn length_counts_code_points_and_overlong_is_refused_first() {
        // 8 code points, 16+ bytes.
        let err = NewPassword::parse("Éé1ÉéÉéÉ", PasswordPolicyKind::Default, &[]);
        assert!(!err.as_ref().err().is_some_and(|e| e.contains(&"min_length_8")));
        let long = "aA1".repeat(43);
        assert_eq!(
            NewPassword::parse(&long, PasswordPolicyKind::Default, &[]).unwrap_err(),
            vec!["max_length_128"]
        );
    }

    #[test]
    fn nist_preset_drops_composition_and_asks_for_15() {
        assert!(NewPassword::parse("violet tractor umbrella", PasswordPolicyKind::Nist, &[]).is_ok());
        let err = NewPassword::parse("Short1aA", PasswordPolicyKind::Nist, &[]).unwrap_err();
        assert!(err.contains(&"min_length_15"));
        assert!(!err.contains(&"uppercase"));
    }

    #[test]
    fn profile_fields_are_checked() {
        let mut errors = FieldErrors::new();
        let p = Profile::parse(Some(" Ada "), Some("a"), Some("x\ny"), None, Some(""), &mut errors);
        assert_eq!(p.name.as_deref(), Some("Ada"));
        assert_eq!(p.company_name, None);
        assert_eq!(errors["username"], vec!["length_3_to_32"]);
        assert_eq!(errors["first_name"], vec!["no_control_characters"]);
    }

    #[test]
    fn debug_never_shows_a_password() {
        let p = NewPassword::parse("Correct-Horse-7-Battery", PasswordPolicyKind::Default, &[]).unwrap();
        assert!(!format!("{p:?}").contains("Horse"));
    }
}
