//! Decoding of character-typed option values (`-delim`, `-quote`, `-delims`): C-like escapes
//! `\t \n \r \\ \' \"`, octal `\NNN`, hex `\xHH`, and a lone `\` meaning a backslash. In character
//! sets (`-delims`) `\s` stands for space and tab.

/// Decodes the escapes of a character literal (the text between the quotes, `''` already undone).
pub fn decode(text: &str, charset: bool) -> Result<String, String> {
    if text == "\\" {
        return Ok("\\".into());
    }
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            // A trailing backslash stands for itself.
            out.push('\\');
            break;
        };
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            's' if charset => out.push_str(" \t"),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(
                    char::from_u32(v)
                        .ok_or_else(|| format!("octal escape \\{v:o} is not a character"))?,
                );
            }
            'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 {
                    match chars.peek().and_then(|d| d.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            chars.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n == 0 {
                    return Err("`\\x` must be followed by one or two hex digits".into());
                }
                out.push(char::from_u32(v).ok_or("hex escape is not a character")?);
            }
            other => return Err(format!("unknown escape `\\{other}`")),
        }
    }
    Ok(out)
}

/// Encodes a decoded value back into literal text that [`decode`] maps to the same value.
pub fn encode(value: &str) -> String {
    if value == "\\" {
        return "\\".into();
    }
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(decode("\\t", false).unwrap(), "\t");
        assert_eq!(decode("\\11", false).unwrap(), "\t");
        assert_eq!(decode("\\x09", false).unwrap(), "\t");
        assert_eq!(decode("\\", false).unwrap(), "\\");
        assert_eq!(decode("|", false).unwrap(), "|");
        assert_eq!(decode("^_^", false).unwrap(), "^_^");
        assert_eq!(decode(",\\s", true).unwrap(), ", \t");
        assert!(decode("\\q", false).is_err());
        assert!(decode("\\x", false).is_err());
    }

    #[test]
    fn encode_round_trips() {
        for v in ["\t", "\\", "|", "a\\b", "\u{1}", "'", "\"", ", \t"] {
            assert_eq!(decode(&encode(v), false).unwrap(), v, "{v:?}");
        }
    }
}
