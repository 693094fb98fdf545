//! Why a run of the executor stopped early ([`RunError`]), shared by the chunk feed and the
//! delivery loop.

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// Reading or writing failed.
    Io(String),
    /// Fail-fast met an error row, a batch failed under the fail policy, or a worker stopped.
    Failed(String),
    /// The reader of the output went away (a closed pipe).
    OutputClosed,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Io(e) | RunError::Failed(e) => f.write_str(e),
            RunError::OutputClosed => f.write_str("the output was closed"),
        }
    }
}

impl std::error::Error for RunError {}

/// An I/O error as a run error; a closed pipe is [`RunError::OutputClosed`].
pub(super) fn io_err(e: std::io::Error) -> RunError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        RunError::OutputClosed
    } else {
        RunError::Io(e.to_string())
    }
}
