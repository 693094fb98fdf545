//! The group table of `stats`: a group id for each row from its key values, ids counting up
//! in first-seen order.
//!
//! A batch's key columns are encoded once into Arrow's row format (equal keys, equal bytes;
//! NULL is one value) and each row is looked up by those bytes with a fast hash; a row of a new
//! key creates a group and keeps its values as [`ScalarValue`]s for the output. A key whose
//! type is not known yet (NULL-typed so far) is encoded as NULL; when its type becomes known,
//! the encoder changes and the stored keys are encoded again, so groups stay the same.
//!
//! Keys of up to [`MAX_SHORT_KEYS`] text columns whose values are short (at most 12 bytes,
//! held inside their Arrow view: methods, status codes, levels, hosts) are first looked up by
//! the views themselves, which identify such values; only rows that miss are encoded. A view
//! enters that table when its group is found the general way, so both agree on every group.
use std::collections::HashMap;

use arrow::array::{new_null_array, Array, ArrayRef, StringViewArray};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use arrow::row::{RowConverter, SortField};
use datafusion_common::ScalarValue;

use crate::budget::{self, Exceeded};
use crate::views::INLINE_LEN;

/// Key values → group id, for one run of `stats`.
pub(super) struct GroupIndex {
    /// The type each key column is encoded as (`Null` while unknown) and the encoder for them.
    encoder: Option<(Vec<DataType>, RowConverter)>,
    index: HashMap<Box<[u8]>, usize, foldhash::fast::RandomState>,
    /// Key values of each group (NULL as `ScalarValue::Null`).
    keys: Vec<Vec<ScalarValue>>,
    /// Groups whose key values are all short text or NULL, by their views.
    short: HashMap<ShortKey, usize, foldhash::fast::RandomState>,
}

/// Most key columns looked up by their views.
const MAX_SHORT_KEYS: usize = 4;

/// The views of a row's keys: each an inline view, or [`NULL_VIEW`]; unused positions 0.
type ShortKey = [u128; MAX_SHORT_KEYS];

/// Stands for NULL in a [`ShortKey`]: no view has this value (its length would be 2^32 - 1),
/// while the empty string's view is 0.
const NULL_VIEW: u128 = u128::MAX;

/// The row's [`ShortKey`], when every key is NULL or short text.
fn short_key(columns: &[Option<&StringViewArray>], row: usize) -> Option<ShortKey> {
    let mut key = [0; MAX_SHORT_KEYS];
    for (slot, column) in key.iter_mut().zip(columns) {
        *slot = match column {
            None => NULL_VIEW,
            Some(a) if a.is_null(row) => NULL_VIEW,
            Some(a) => {
                let view = a.views()[row];
                if view as u32 as usize > INLINE_LEN {
                    return None;
                }
                view
            }
        };
    }
    Some(key)
}

/// Why a batch could not be assigned: over budget, or a key that could not be encoded.
#[derive(Debug)]
pub(super) enum AssignError {
    Budget(Exceeded),
    Key(String),
}

impl From<Exceeded> for AssignError {
    fn from(e: Exceeded) -> Self {
        AssignError::Budget(e)
    }
}

impl From<ArrowError> for AssignError {
    fn from(e: ArrowError) -> Self {
        AssignError::Key(e.to_string())
    }
}

impl From<datafusion_common::DataFusionError> for AssignError {
    fn from(e: datafusion_common::DataFusionError) -> Self {
        AssignError::Key(e.to_string())
    }
}

impl GroupIndex {
    pub fn new() -> GroupIndex {
        GroupIndex {
            encoder: None,
            index: HashMap::default(),
            keys: Vec::new(),
            short: HashMap::default(),
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key values of every group, by group id; the table is empty afterwards.
    pub fn take_keys(&mut self) -> Vec<Vec<ScalarValue>> {
        self.index.clear();
        self.short.clear();
        std::mem::take(&mut self.keys)
    }

    /// The group of each of `rows` rows whose key columns are `columns` (`None`: all NULL,
    /// with the column's type in `types`, `Null` when not known yet). A row of a new key gets a
    /// new group while fewer than `max_groups` exist, else `None`. Each row ticks the budget;
    /// each new group is charged its key.
    pub fn assign(
        &mut self,
        columns: &[Option<ArrayRef>],
        types: &[DataType],
        rows: usize,
        max_groups: Option<usize>,
    ) -> Result<Vec<Option<usize>>, AssignError> {
        // Rows whose keys are all short text or NULL: found by their views when seen before.
        let text: Option<Vec<Option<&StringViewArray>>> = (columns.len() <= MAX_SHORT_KEYS)
            .then(|| {
                columns
                    .iter()
                    .map(|c| match c {
                        None => Some(None),
                        Some(a) => a.as_any().downcast_ref::<StringViewArray>().map(Some),
                    })
                    .collect()
            })
            .flatten();
        let mut gids = Vec::with_capacity(rows);
        // Rows not found, with their short key when they have one.
        let mut missed = Vec::new();
        for row in 0..rows {
            budget::tick(1)?;
            let key = text.as_deref().and_then(|t| short_key(t, row));
            let found = key.and_then(|k| self.short.get(&k)).copied();
            if found.is_none() {
                missed.push((row, key));
            }
            gids.push(found);
        }
        if missed.is_empty() {
            return Ok(gids);
        }
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .zip(types)
            .map(|(c, t)| match c {
                Some(a) => a.clone(),
                None => new_null_array(t, rows),
            })
            .collect();
        let encoded = self.encode_as(types)?.convert_columns(&arrays)?;
        for (row, short) in missed {
            let bytes = encoded.row(row);
            let bytes = bytes.as_ref();
            let gid = match self.index.get(bytes) {
                Some(g) => *g,
                None if max_groups.is_some_and(|m| self.keys.len() >= m) => continue,
                None => {
                    let key = arrays
                        .iter()
                        .map(|a| {
                            if a.is_valid(row) {
                                ScalarValue::try_from_array(a.as_ref(), row)
                            } else {
                                Ok(ScalarValue::Null)
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    // The key's values, its encoding and the table entry.
                    let size = key.iter().map(ScalarValue::size).sum::<usize>();
                    budget::charge(size + bytes.len() + 64)?;
                    let g = self.keys.len();
                    self.keys.push(key);
                    self.index.insert(bytes.into(), g);
                    g
                }
            };
            if let Some(k) = short {
                if self.short.insert(k, gid).is_none() {
                    budget::charge(std::mem::size_of::<ShortKey>() + 16)?;
                }
            }
            gids[row] = Some(gid);
        }
        Ok(gids)
    }

    /// The encoder for `types`; the stored keys are encoded again when the types change.
    fn encode_as(&mut self, types: &[DataType]) -> Result<&RowConverter, AssignError> {
        let current = self.encoder.as_ref().is_some_and(|(t, _)| t == types);
        if !current {
            let fields = types.iter().map(|t| SortField::new(t.clone())).collect();
            let encoder = RowConverter::new(fields)?;
            self.index.clear();
            if !self.keys.is_empty() {
                let columns = types
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        let null = ScalarValue::try_from(t)?;
                        let values = self.keys.iter().map(|key| match &key[k] {
                            ScalarValue::Null => null.clone(),
                            v => v.clone(),
                        });
                        Ok(ScalarValue::iter_to_array(values)?)
                    })
                    .collect::<Result<Vec<_>, AssignError>>()?;
                let encoded = encoder.convert_columns(&columns)?;
                for g in 0..self.keys.len() {
                    self.index.insert(encoded.row(g).as_ref().into(), g);
                }
            }
            self.encoder = Some((types.to_vec(), encoder));
        }
        let (_, encoder) = self.encoder.as_ref().expect("set above");
        Ok(encoder)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringViewArray};

    use super::*;

    fn text(values: &[Option<&str>]) -> Option<ArrayRef> {
        Some(Arc::new(StringViewArray::from(values.to_vec())))
    }

    #[test]
    fn equal_keys_share_a_group_in_first_seen_order() {
        let mut index = GroupIndex::new();
        let a = text(&[Some("x"), Some("y"), Some("x"), None, None]);
        let b: Option<ArrayRef> = Some(Arc::new(Int64Array::from(vec![
            Some(1),
            Some(1),
            Some(1),
            None,
            Some(2),
        ])));
        let types = [DataType::Utf8View, DataType::Int64];
        let gids = index.assign(&[a, b], &types, 5, None).unwrap();
        assert_eq!(gids, [Some(0), Some(1), Some(0), Some(2), Some(3)]);
        // A later batch finds the same groups.
        let a = text(&[None, Some("y")]);
        let b: Option<ArrayRef> = Some(Arc::new(Int64Array::from(vec![None, Some(1)])));
        let gids = index.assign(&[a, b], &types, 2, None).unwrap();
        assert_eq!(gids, [Some(2), Some(1)]);
        let keys = index.take_keys();
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[2], [ScalarValue::Null, ScalarValue::Null]);
        assert_eq!(
            keys[3],
            [ScalarValue::Null, ScalarValue::Int64(Some(2))],
            "{keys:?}"
        );
    }

    #[test]
    fn a_key_whose_type_becomes_known_keeps_its_null_group() {
        let mut index = GroupIndex::new();
        // First batch: the key has no type yet (all NULL).
        let gids = index
            .assign(
                &[None, text(&[Some("a")])],
                &[DataType::Null, DataType::Utf8View],
                1,
                None,
            )
            .unwrap();
        assert_eq!(gids, [Some(0)]);
        // Then it is DOUBLE: NULL rows still land in group 0, others in new groups.
        let k: Option<ArrayRef> = Some(Arc::new(Float64Array::from(vec![None, Some(1.5)])));
        let types = [DataType::Float64, DataType::Utf8View];
        let gids = index
            .assign(&[k, text(&[Some("a"), Some("a")])], &types, 2, None)
            .unwrap();
        assert_eq!(gids, [Some(0), Some(1)]);
        let gids = index
            .assign(&[None, text(&[Some("a")])], &types, 1, None)
            .unwrap();
        assert_eq!(gids, [Some(0)]);
    }

    #[test]
    fn the_group_cap_leaves_new_keys_out() {
        let mut index = GroupIndex::new();
        let a = text(&[Some("a"), Some("b"), Some("a"), Some("c")]);
        let gids = index
            .assign(&[a], &[DataType::Utf8View], 4, Some(1))
            .unwrap();
        assert_eq!(gids, [Some(0), None, Some(0), None]);
        assert_eq!(index.len(), 1);
    }

    /// Short, long, empty and NULL keys in every order over several batches: the views table
    /// and the general path give every row the group of its key, and the empty string is not
    /// NULL.
    #[test]
    fn short_keys_found_by_their_views_agree_with_the_general_path() {
        let long = "a value longer than twelve bytes";
        let values = [
            Some("x"),
            Some(""),
            None,
            Some(long),
            Some("twelve bytes"),
            Some("y"),
        ];
        let mut index = GroupIndex::new();
        let types = [DataType::Utf8View, DataType::Utf8View];
        let mut first_group = std::collections::HashMap::new();
        for batch in 0..4 {
            let rows: Vec<(Option<&str>, Option<&str>)> = (0..12)
                .map(|i| (values[(i + batch) % 6], values[(i * 5 + batch) % 6]))
                .collect();
            let a = text(&rows.iter().map(|r| r.0).collect::<Vec<_>>());
            let b = text(&rows.iter().map(|r| r.1).collect::<Vec<_>>());
            let gids = index.assign(&[a, b], &types, rows.len(), None).unwrap();
            for (row, gid) in rows.iter().zip(gids) {
                let gid = gid.expect("no cap");
                assert_eq!(*first_group.entry(*row).or_insert(gid), gid, "{row:?}");
            }
        }
        // Distinct pairs, distinct groups.
        let groups: std::collections::HashSet<_> = first_group.values().collect();
        assert_eq!(groups.len(), first_group.len());
        assert_eq!(index.len(), first_group.len());
        let keys = index.take_keys();
        for ((a, b), g) in &first_group {
            let text = |v: &Option<&str>| match v {
                Some(s) => ScalarValue::Utf8View(Some(s.to_string())),
                None => ScalarValue::Null,
            };
            assert_eq!(keys[*g], [text(a), text(b)]);
        }
    }
}
