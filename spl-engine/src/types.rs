//! The SPL type model: which Arrow `DataType` represents each SPL type (spec §4).
//!
//! | SPL type  | Arrow type                         | notes |
//! |-----------|------------------------------------|-------|
//! | VARCHAR   | `Utf8View` (also accepts `Utf8`)   | every ingested field; all `parse-*` outputs |
//! | JSON      | `LargeUtf8`                        | compact JSON text; `LargeUtf8` is reserved as the JSON tag |
//! | BOOLEAN   | `Boolean`                          | |
//! | TINYINT … BIGINT | `Int8`, `Int16`, `Int32`, `Int64` | |
//! | HUGEINT   | `Decimal128(38, 0)`                | |
//! | REAL, DOUBLE | `Float32`, `Float64`            | |
//! | TIMESTAMP | `Timestamp(Nanosecond, None)`      | an instant (ns since the Unix epoch, UTC); shown in the session zone |
//! | DATE      | `Date32`                           | |
//! | VARBINARY | `Binary`                           | |
//! | ARRAY(T)  | `List(T)`                          | subscripts are 1-based |
//! | MAP(K, V) | `Map(K, V)`                        | |
//! | ROW       | `Struct`                           | from `(a, b)` row constructors |
use arrow::datatypes::{DataType, TimeUnit};

/// VARCHAR: the type of every ingested field.
pub const VARCHAR: DataType = DataType::Utf8View;
/// JSON values travel as compact JSON text in a `LargeUtf8` column.
pub const JSON: DataType = DataType::LargeUtf8;
/// TIMESTAMP: nanoseconds since the epoch (an instant, no zone attached).
pub const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Nanosecond, None);
/// HUGEINT: 128-bit integer.
pub const HUGEINT: DataType = DataType::Decimal128(38, 0);

/// True for the Arrow types that hold SPL VARCHAR text.
pub fn is_varchar(t: &DataType) -> bool {
    matches!(t, DataType::Utf8View | DataType::Utf8)
}

/// True for the Arrow type that holds SPL JSON.
pub fn is_json(t: &DataType) -> bool {
    matches!(t, DataType::LargeUtf8)
}
