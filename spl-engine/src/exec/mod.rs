//! The executor every host calls: it turns input into a pipeline's outputs with the same rules
//! in the CLI, the C ABI, the pushdown server and future hosts.
//!
//! - [`decode_plan`]: which fields the decoder materialises under the pipeline's error policy.
//! - [`chunks`]: a byte stream cut into chunks at line ends, with buffer reuse.
//! - [`feed`]: the host's sources in turn, each chunk with its source's decoder.
//! - [`stream`]: the ordered parallel run over the chunks ([`run`]) into a [`Sink`].
//! - [`errors`]: error rows with every input field, undecodable lines as error rows.
//! - [`batch`]: one batch in, outputs and error rows out ([`run_batch`]), for batch hosts.
//!
//! The host opens files or stdin, decompresses, shows progress and writes outputs; the executor
//! sees only `Read` sources and a sink. Output *encoding* to JSON lines and raw text
//! ([`crate::codec::RowEncoder`]) stays in the engine because the executor runs it on the worker
//! threads, in parallel with decoding; table and CSV presentation is the CLI's.
pub mod batch;
pub mod chunks;
pub mod decode_plan;
pub mod errors;
pub mod feed;
mod run_error;
pub mod stream;

pub use batch::{run_batch, BatchOutput};
pub use chunks::{Chunk, ChunkReader, DEFAULT_CHUNK_SIZE};
pub use decode_plan::DecodePlan;
pub use errors::{input_error_rows, stage_error_rows, with_all_fields};
pub use feed::{Source, Sources};
pub use run_error::RunError;
pub use stream::{run, RunOptions, Sink, Totals, IN_FLIGHT_PER_THREAD};
