"""Type stubs for the native module (``spl._native``); everything is re-exported by ``spl``."""

from os import PathLike
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import pyarrow as pa

DEFAULT_CHUNK_SIZE: int

class SplError(Exception):
    """A program that does not compile (``diagnostics`` lists why; ``str()`` renders them as
    ``spl check`` does), or a run that failed (``code`` is the engine's error code)."""

    diagnostics: List["Diagnostic"]
    code: Optional[str]

class Diagnostic:
    """One finding about a program, positioned at its primary label (1-based)."""

    severity: str
    code: str
    name: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    label: str
    notes: List[str]
    help: Optional[str]

class ArrowStream:
    """Record batches exported once through ``__arrow_c_stream__``."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...

class Result:
    """What ``Pipeline.process`` produced."""

    outputs: Dict[str, pa.Table]
    errors: pa.Table
    stats: List[Dict[str, Any]]
    policy_error_rows: int
    budget_exceeded: int
    budget_error: Optional[str]
    @property
    def output(self) -> pa.Table: ...

class FileRun(Iterator[Tuple[str, pa.RecordBatch]]):
    """``(dataset, batch)`` pairs of a run over files; ``totals`` once it ended."""

    def __iter__(self) -> "FileRun": ...
    def __next__(self) -> Tuple[str, pa.RecordBatch]: ...
    @property
    def totals(self) -> Optional[Dict[str, Any]]: ...

class Pipeline:
    """A compiled SPL program; immutable and safe to share between threads."""

    def process(self, data: Any) -> Result: ...
    def run_files(
        self,
        paths: Sequence[Union[str, PathLike]],
        input_format: Optional[str] = None,
        threads: int = 1,
        chunk_size: int = ...,
    ) -> FileRun: ...
    def explain(self, written: bool = False) -> str: ...
    @property
    def outputs(self) -> List[str]: ...
    @property
    def warnings(self) -> List[Diagnostic]: ...
    @property
    def source(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def error_policy(self) -> str: ...

def compile(
    text: str,
    profile: str = "cli",
    timezone: str = "UTC",
    error_policy: Optional[str] = None,
) -> Pipeline: ...
def check(text: str, profile: str = "cli") -> List[Diagnostic]: ...
def format(text: str) -> str: ...
def rows(data: Any, timezone: str = "UTC") -> List[Dict[str, str]]: ...
def json_lines(data: Any, timezone: str = "UTC") -> List[str]: ...
