//! Recovery codes: ten single-use codes shown once, stored by their SHA-256 only.
//!
//! A code is 12 characters of an alphabet without look-alikes (about 60 bits), written in three
//! groups (`k7qm-2xhp-9wfd`). Each is random, so a fast hash is enough to keep the stored form
//! useless to a reader of the table, and guessing online meets the second-factor limit first.

use std::collections::BTreeMap;

use crate::crypto;

pub const COUNT: usize = 10;
const GROUPS: usize = 3;
const GROUP_LEN: usize = 4;
/// No `0`/`o`, `1`/`l`/`i`: a code read off paper is typed right.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A new set: the codes to show, and the map of their hashes to store.
pub fn generate() -> (Vec<String>, BTreeMap<String, bool>) {
    let codes: Vec<String> = (0..COUNT).map(|_| one()).collect();
    let hashes = codes.iter().map(|c| (hash(c).unwrap_or_default(), true)).collect();
    (codes, hashes)
}

fn one() -> String {
    let mut out = String::with_capacity(GROUPS * (GROUP_LEN + 1));
    let mut pool: Vec<u8> = Vec::new();
    let mut drawn = 0;
    while drawn < GROUPS * GROUP_LEN {
        let Some(b) = pool.pop() else {
            let mut more = [0u8; 32];
            getrandom::fill(&mut more).expect("the OS random source is available");
            pool.extend_from_slice(&more);
            continue;
        };
        // 31 letters: reject the top of the byte range so that each is equally likely.
        if usize::from(b) >= 248 {
            continue;
        }
        if drawn > 0 && drawn % GROUP_LEN == 0 {
            out.push('-');
        }
        out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
        drawn += 1;
    }
    out
}

/// The stored form of a code as a user typed it (any case, with or without dashes and spaces);
/// `None` for text that cannot be a code.
pub fn hash(typed: &str) -> Option<String> {
    let plain: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    let plausible = plain.len() == GROUPS * GROUP_LEN && plain.bytes().all(|b| ALPHABET.contains(&b));
    plausible.then(|| crypto::token_hash(&plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_has_ten_distinct_codes_that_hash_however_they_are_typed() {
        let (codes, hashes) = generate();
        assert_eq!(codes.len(), COUNT);
        assert_eq!(hashes.len(), COUNT, "distinct");
        for code in &codes {
            assert_eq!(code.len(), 14);
            let h = hash(code).unwrap();
            assert!(hashes.contains_key(&h));
            assert_eq!(hash(&code.to_uppercase().replace('-', " ")), Some(h));
        }
        assert_eq!(hash("not-a-code"), None);
        assert_eq!(hash("0000-0000-0000"), None, "look-alikes are not in the alphabet");
    }
}
