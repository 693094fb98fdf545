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

/// The Arrow type of a `CAST` target (spec §4). The parser has already validated names and
/// parameter counts; this maps them.
pub fn from_type_name(t: &spl_parser::TypeName) -> Result<DataType, String> {
    use spl_parser::TypeParam;
    let param = |i: usize| match t.params.get(i) {
        Some(TypeParam::Type(inner)) => from_type_name(inner),
        _ => Err(format!(
            "type {} needs a type parameter",
            t.name.to_uppercase()
        )),
    };
    Ok(match t.name.as_str() {
        "boolean" => DataType::Boolean,
        "tinyint" => DataType::Int8,
        "smallint" => DataType::Int16,
        "integer" => DataType::Int32,
        "bigint" => DataType::Int64,
        "hugeint" => HUGEINT,
        "real" => DataType::Float32,
        "double" => DataType::Float64,
        "timestamp" => TIMESTAMP,
        "date" => DataType::Date32,
        "varchar" => VARCHAR,
        "varbinary" => DataType::Binary,
        "json" => JSON,
        "array" => DataType::new_list(param(0)?, true),
        "map" => {
            let entries = DataType::Struct(arrow::datatypes::Fields::from(vec![
                arrow::datatypes::Field::new("key", param(0)?, false),
                arrow::datatypes::Field::new("value", param(1)?, true),
            ]));
            DataType::Map(
                std::sync::Arc::new(arrow::datatypes::Field::new("entries", entries, false)),
                false,
            )
        }
        other => return Err(format!("unknown type `{other}`")),
    })
}

// Type classes of the coercion rules (spec §18.2), used by lowering and the function catalog.

/// True for integer types.
pub fn is_integral(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

/// True for integer and floating types.
pub fn is_numeric(t: &DataType) -> bool {
    is_integral(t)
        || matches!(
            t,
            DataType::Float32 | DataType::Float64 | DataType::UInt64 | DataType::Decimal128(_, _)
        )
}

/// True for VARCHAR and JSON text.
pub fn is_text(t: &DataType) -> bool {
    is_varchar(t) || is_json(t)
}

/// The common numeric type of two numeric types.
pub fn numeric_common(l: &DataType, r: &DataType) -> DataType {
    if is_integral(l) && is_integral(r) {
        DataType::Int64
    } else {
        DataType::Float64
    }
}

/// MAP(k, v) as the engine builds it: `entries` of a non-NULL `key` and a nullable `value`.
pub(crate) fn map_type(k: DataType, v: DataType) -> DataType {
    DataType::Map(
        std::sync::Arc::new(arrow::datatypes::Field::new(
            "entries",
            entries_type(k, v),
            false,
        )),
        false,
    )
}

fn entries_type(k: DataType, v: DataType) -> DataType {
    DataType::Struct(arrow::datatypes::Fields::from(vec![
        arrow::datatypes::Field::new("key", k, false),
        arrow::datatypes::Field::new("value", v, true),
    ]))
}

/// The key and value types of a map type.
pub(crate) fn key_value_types(t: &DataType) -> Option<(DataType, DataType)> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(f) if f.len() == 2 => {
                Some((f[0].data_type().clone(), f[1].data_type().clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The entry positions of map row `i` (empty for a NULL row).
pub(crate) fn map_entries(m: &arrow::array::MapArray, i: usize) -> std::ops::Range<usize> {
    use arrow::array::Array;
    if m.is_null(i) {
        return 0..0;
    }
    let o = m.value_offsets();
    let start = usize::try_from(o[i]).unwrap_or(0);
    start..usize::try_from(o[i + 1]).unwrap_or(start).max(start)
}
