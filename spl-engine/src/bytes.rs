//! Byte comparisons for the hot paths of the decoders and extraction stages: field names and
//! short literals compared inline, without a call to `memcmp` per comparison (which cost more
//! than the rest of a field lookup in the profiles of W1 and `parse-json`).

/// `a == b`: two overlapping word loads for 4 to 16 bytes, eight bytes at a time beyond.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
        let mut w = [0u8; N];
        w.copy_from_slice(&s[at..at + N]);
        w
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        _ => {
            let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
            (&mut a8).zip(&mut b8).all(|(x, y)| x == y)
                && a8
                    .remainder()
                    .iter()
                    .zip(b8.remainder())
                    .all(|(x, y)| x == y)
        }
    }
}

/// `b` starts with `prefix`.
#[inline(always)]
pub(crate) fn starts_with(b: &[u8], prefix: &[u8]) -> bool {
    b.len() >= prefix.len() && same_bytes(&b[..prefix.len()], prefix)
}

#[cfg(test)]
mod tests {
    use super::{same_bytes, starts_with};

    #[test]
    fn same_key_compares_every_byte_of_every_length() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{n} {at}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
            assert!(starts_with(&a, &a[..n / 2]) && !starts_with(&a[..n / 2], &a) || n == 0);
        }
    }

    #[test]
    fn same_bytes_is_equality() {
        let words = [
            "",
            "a",
            "ab",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefghj",
            "request_id",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_bytes(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
            }
        }
    }
}
