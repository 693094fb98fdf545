//! Deployment profiles (spec §11, §12, §18.12): which instructions a pipeline may use and the
//! limits it runs under (stages per statement, script length, per-batch memory and time), plus
//! the default runtime error policy (§18.11). Limits are data here, not constants in the engine.
use std::fmt;
use std::time::Duration;

use spl_parser::InstructionKind;

/// Where a pipeline will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// The offline `spl` tool: every instruction, no limits unless given.
    Cli,
    /// A log agent (Logtail / LoongCollector `processor_spl`).
    Logtail,
    /// Real-time consumption: pushdown into PullLogs.
    Consumer,
    /// Data transformation (new version).
    Transform,
    /// Logstore scan query.
    Scan,
}

/// What happens to a row whose evaluation fails with a data error (§18.11), or to a batch that
/// exceeds its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorPolicy {
    /// The failing row goes to the error stream with `__error__`; processing continues (CLI).
    ErrorStream,
    /// The original input row (or batch) is emitted unchanged and an error counter rises (agents).
    PassThrough,
    /// The failing row is counted and dropped.
    Drop,
    /// The first error fails the whole call.
    Fail,
}

/// The limits a pipeline compiles and runs under; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Instructions per statement.
    pub max_stages: Option<usize>,
    /// Program text length in bytes.
    pub max_script_bytes: Option<usize>,
    /// Memory one batch may use while it is processed.
    pub max_batch_memory: Option<usize>,
    /// Time one batch may take.
    pub batch_timeout: Option<Duration>,
    /// Groups a `stats` returns when no `limit` follows it.
    pub stats_groups: Option<usize>,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const GIB: usize = 1024 * MIB;

impl Profile {
    pub const ALL: &'static [Profile] = &[
        Profile::Cli,
        Profile::Logtail,
        Profile::Consumer,
        Profile::Transform,
        Profile::Scan,
    ];

    /// The profile's name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Cli => "cli",
            Profile::Logtail => "logtail",
            Profile::Consumer => "consumer",
            Profile::Transform => "transform",
            Profile::Scan => "scan",
        }
    }

    /// Looks a profile up by name (`agent` is accepted for `logtail`).
    pub fn parse(name: &str) -> Option<Profile> {
        let name = name.to_ascii_lowercase();
        if name == "agent" {
            return Some(Profile::Logtail);
        }
        Profile::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The limits of §18.12.
    pub fn limits(self) -> Limits {
        let (stages, script, memory, secs) = match self {
            Profile::Cli => {
                return Limits {
                    max_stages: None,
                    max_script_bytes: None,
                    max_batch_memory: None,
                    batch_timeout: None,
                    stats_groups: None,
                }
            }
            Profile::Logtail => (16, 64 * KIB, 50 * MIB, 1),
            Profile::Consumer => (16, 10 * KIB, GIB, 5),
            Profile::Transform => (16, 10 * KIB, GIB, 5),
            Profile::Scan => (16, 64 * KIB, 2 * GIB, 2),
        };
        Limits {
            max_stages: Some(stages),
            max_script_bytes: Some(script),
            max_batch_memory: Some(memory),
            batch_timeout: Some(Duration::from_secs(secs)),
            stats_groups: (self == Profile::Scan).then_some(100),
        }
    }

    /// The default runtime error policy (§18.11).
    pub fn error_policy(self) -> ErrorPolicy {
        match self {
            Profile::Cli | Profile::Scan => ErrorPolicy::ErrorStream,
            Profile::Logtail | Profile::Consumer | Profile::Transform => ErrorPolicy::PassThrough,
        }
    }

    /// Whether the instruction is available here (§12). `None` when it is; otherwise the reason.
    pub fn rejects(self, kind: &InstructionKind) -> Option<&'static str> {
        use InstructionKind as K;
        let scan_only = matches!(
            kind,
            K::Stats { .. } | K::Sort { .. } | K::Limit { .. } | K::MakeSeries { .. }
        );
        let transform_only = matches!(
            kind,
            K::PackFields { .. } | K::LogToMetric | K::MetricToMetric
        );
        match self {
            Profile::Cli | Profile::Scan => None,
            _ if matches!(kind, K::Render { .. }) => {
                Some("it draws a chart of a query's result and runs only in scan queries")
            }
            _ if scan_only => Some("it buffers the whole input and runs only in scan queries"),
            Profile::Transform => None,
            _ if transform_only => Some("it is a data-transformation instruction"),
            _ => None,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_agent_alias() {
        for p in Profile::ALL {
            assert_eq!(Profile::parse(p.name()), Some(*p));
        }
        assert_eq!(Profile::parse("AGENT"), Some(Profile::Logtail));
        assert_eq!(Profile::parse("sql"), None);
    }

    #[test]
    fn limits_follow_the_decisions() {
        let l = Profile::Logtail.limits();
        assert_eq!(l.max_stages, Some(16));
        assert_eq!(l.max_script_bytes, Some(65536));
        assert_eq!(l.max_batch_memory, Some(52_428_800));
        assert_eq!(l.batch_timeout, Some(Duration::from_secs(1)));
        assert_eq!(Profile::Consumer.limits().max_script_bytes, Some(10240));
        assert_eq!(Profile::Scan.limits().stats_groups, Some(100));
        assert_eq!(Profile::Cli.limits().max_stages, None);
    }

    #[test]
    fn availability() {
        let stats = InstructionKind::Limit {
            offset: None,
            count: 1,
        };
        assert!(Profile::Consumer.rejects(&stats).is_some());
        assert!(Profile::Scan.rejects(&stats).is_none());
        assert!(Profile::Logtail
            .rejects(&InstructionKind::LogToMetric)
            .is_some());
        assert!(Profile::Transform
            .rejects(&InstructionKind::LogToMetric)
            .is_none());
    }
}
