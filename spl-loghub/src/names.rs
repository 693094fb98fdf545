//! The service's naming rules: names a logstore or project may be created with, and the
//! names that are safe to look up (they become directory names).

/// A logstore name by the service's rules: 3–63 of `a-z 0-9 _ -`, starting and ending with a
/// lowercase letter or digit. Checked when a logstore is created.
pub fn valid_logstore_name(name: &str) -> bool {
    rule_name(name, 3..=63, b"_-")
}

/// A project name by the service's rules: 3–63 of `a-z 0-9 -`, starting and ending with a
/// lowercase letter or digit. Checked when a logstore is created in it.
pub fn valid_project_name(name: &str) -> bool {
    rule_name(name, 3..=63, b"-")
}

/// `len` characters of lowercase letters, digits and `inner`, with a letter or digit at both
/// ends.
pub(crate) fn rule_name(name: &str, len: std::ops::RangeInclusive<usize>, inner: &[u8]) -> bool {
    let b = name.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    len.contains(&b.len())
        && b.iter().all(|c| edge(c) || inner.contains(c))
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
}

/// Names looked up (not created): 1–128 of `A-Z a-z 0-9 _ -`, not starting with `-` or `_`,
/// which keeps them safe as directory names. A name outside the naming rules that is safe is
/// simply not found.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
}
