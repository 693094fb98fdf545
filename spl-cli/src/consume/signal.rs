//! Stop on SIGINT/SIGTERM: a flag the worker loop polls, set by a small signal thread.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Installs the handlers; the flag turns true at the first SIGINT or SIGTERM.
pub fn stop_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("cannot start the signal handler: {e}"))?;
    use tokio::signal::unix::{signal, SignalKind};
    let (mut int, mut term) = rt
        .block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let set = flag.clone();
    std::thread::spawn(move || {
        rt.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        set.store(true, Ordering::SeqCst);
    });
    Ok(flag)
}
