//! One small bounded cache for values that are costly to build and cheap to clone (planned
//! expressions, compiled patterns): lookups take a shared read lock only, so threads that hit
//! never wait for each other; a miss builds the value under the write lock, so concurrent
//! misses on one key build it once. When full, the oldest entry is dropped.
use std::sync::RwLock;

/// A bounded, thread-safe map from `K` to `V` with oldest-first eviction.
#[derive(Debug)]
pub struct BoundedCache<K, V> {
    capacity: usize,
    entries: RwLock<Vec<(K, V)>>,
}

impl<K, V: Clone> BoundedCache<K, V> {
    /// An empty cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        BoundedCache {
            capacity: capacity.max(1),
            entries: RwLock::new(Vec::new()),
        }
    }

    /// The value of the first key `matches` accepts, if any.
    pub fn find(&self, matches: impl Fn(&K) -> bool) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(k, _)| matches(k))
            .map(|(_, v)| v.clone())
    }

    /// The cached value of `key` (found with `matches`), building and storing it with `make` on
    /// a miss. `make` runs at most once per key while the key stays cached, even when several
    /// threads miss together; an error is returned and nothing is stored.
    pub fn get_or_try_insert<E>(
        &self,
        matches: impl Fn(&K) -> bool,
        key: impl FnOnce() -> K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.find(&matches) {
            return Ok(v);
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, v)) = entries.iter().find(|(k, _)| matches(k)) {
            return Ok(v.clone());
        }
        let v = make()?;
        if entries.len() >= self.capacity {
            entries.remove(0);
        }
        entries.push((key(), v.clone()));
        Ok(v)
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }

    /// True when the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedCache;

    #[test]
    fn keeps_at_most_capacity_entries_dropping_the_oldest() {
        let cache = BoundedCache::new(2);
        for k in 0..5 {
            let got: Result<i32, ()> = cache.get_or_try_insert(|x| *x == k, || k, || Ok(k * 10));
            assert_eq!(got, Ok(k * 10));
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.find(|k| *k == 4), Some(40));
        assert_eq!(cache.find(|k| *k == 0), None);
    }

    #[test]
    fn a_failed_build_stores_nothing() {
        let cache: BoundedCache<i32, i32> = BoundedCache::new(4);
        assert_eq!(
            cache.get_or_try_insert(|k| *k == 1, || 1, || Err("no")),
            Err("no")
        );
        assert!(cache.is_empty());
    }
}
