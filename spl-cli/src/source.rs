//! Where the SPL text of a command comes from: the command line, a file, or stdin.
use std::io::Read;
use std::path::{Path, PathBuf};

/// SPL text with a name for diagnostics.
#[derive(Debug)]
pub struct SplSource {
    pub text: String,
    /// Shown in diagnostics: the file name, or `<spl>` for inline text.
    pub name: String,
    /// The file the text came from, if any.
    pub path: Option<PathBuf>,
    /// True when the text was read from stdin.
    pub from_stdin: bool,
}

impl SplSource {
    /// From an inline argument or a `-q/--query-file` path (exactly one of them).
    pub fn from_args(inline: Option<String>, file: Option<PathBuf>) -> Result<SplSource, String> {
        match (inline, file) {
            (Some(text), None) => Ok(SplSource {
                text,
                name: "<spl>".into(),
                path: None,
                from_stdin: false,
            }),
            (None, Some(path)) => read_file(&path),
            (Some(_), Some(_)) => {
                Err("give the SPL either inline or with --query-file, not both".into())
            }
            (None, None) => {
                Err("no SPL given: pass it as an argument or with --query-file FILE".into())
            }
        }
    }

    /// An argument that is a path to an existing file, or else SPL text.
    pub fn text_or_file(arg: &str) -> Result<SplSource, String> {
        let path = Path::new(arg);
        if arg == "-" || (!arg.contains('|') && path.is_file()) {
            read_file(path)
        } else {
            Ok(SplSource {
                text: arg.to_string(),
                name: "<spl>".into(),
                path: None,
                from_stdin: false,
            })
        }
    }
}

fn read_file(path: &Path) -> Result<SplSource, String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{} is not valid UTF-8 (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(SplSource {
        text,
        name: path.display().to_string(),
        path: (path.as_os_str() != "-").then(|| path.to_path_buf()),
        from_stdin: path.as_os_str() == "-",
    })
}
