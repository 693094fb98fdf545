//! `spl test`: run conformance/golden case files (the format of `testdata/conformance`), print
//! a diff per failing case and `N passed, M failed`; exit 1 on failure. `--update` rewrites the
//! expectations of failing cases with what the engine produced.
use std::path::PathBuf;
use std::process::ExitCode;

use spl_engine::conformance;

pub fn run(files: &[PathBuf], update: bool, filter: Option<&str>) -> ExitCode {
    let (mut passed, mut failed, mut updated) = (0usize, 0usize, 0usize);
    for path in files {
        let cases = match conformance::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(super::EXIT_USAGE);
            }
        };
        let cases: Vec<_> = cases
            .into_iter()
            .filter(|c| filter.is_none_or(|f| c.id.contains(f)))
            .collect();
        let outcomes: Vec<_> = cases.iter().map(conformance::run).collect();
        for o in &outcomes {
            match &o.failure {
                None => passed += 1,
                Some(why) => {
                    failed += 1;
                    outln!("FAIL {} ({}:{})", o.id, path.display(), o.line);
                    for line in why.lines() {
                        outln!("    {line}");
                    }
                }
            }
        }
        if update && outcomes.iter().any(|o| o.failure.is_some()) {
            let original = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", path.display());
                    return ExitCode::from(1);
                }
            };
            let text = conformance::updated_text(&original, &cases, &outcomes);
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(1);
            }
            updated += outcomes.iter().filter(|o| o.failure.is_some()).count();
        }
    }
    outln!("{passed} passed, {failed} failed");
    if update && updated > 0 {
        outln!("updated {updated} cases");
        return ExitCode::SUCCESS;
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
