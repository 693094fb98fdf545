from os import PathLike
from typing import List, Optional, Sequence, Union

import pyarrow as pa

from ._native import (
    DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE,
    ArrowStream as ArrowStream,
    Diagnostic as Diagnostic,
    FileRun as FileRun,
    Pipeline as Pipeline,
    Result as Result,
    SplError as SplError,
    check as check,
    compile as compile,
    format as format,
    json_lines as json_lines,
    rows as rows,
)

def read_files(
    paths: Union[str, PathLike, Sequence[Union[str, PathLike]]],
    input_format: Optional[str] = None,
    threads: int = 1,
) -> List[pa.Table]: ...
