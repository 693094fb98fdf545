//! The engine's one bounded cache, for values that are costly to build and cheap to clone
//! (planned expressions, compiled patterns, parsed zones and date formats), and [`LastUsed`],
//! the per-call front that lets a column with the same key on every row skip it.
//!
//! [`BoundedCache`]: lookups take a shared read lock only, so threads that hit never wait for
//! each other; a miss builds the value under the write lock, so concurrent misses on one key
//! build it once. Keys are found through a hash index (or, with the `find`-style methods, by a
//! scan with a caller's predicate, for keys cheaper to compare by identity than to hash). When
//! full, the oldest entry (first inserted) is dropped: eviction is first-in first-out, so a hit
//! never writes.
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

/// A bounded, thread-safe map from `K` to `V` with oldest-first eviction.
#[derive(Debug)]
pub struct BoundedCache<K, V> {
    capacity: usize,
    inner: RwLock<Slots<K, V>>,
}

/// The entries in a ring of at most `capacity` slots, and the slot of each key.
#[derive(Debug)]
struct Slots<K, V> {
    slots: Vec<(K, V)>,
    /// Once the ring is full, the slot of the oldest entry (the next one replaced).
    oldest: usize,
    index: HashMap<K, usize>,
}

impl<K: Hash + Eq + Clone, V: Clone> Slots<K, V> {
    fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.index.get(key).map(|&i| &self.slots[i].1)
    }

    fn find(&self, matches: impl Fn(&K) -> bool) -> Option<&V> {
        self.slots.iter().find(|(k, _)| matches(k)).map(|(_, v)| v)
    }

    /// Stores `value` under `key`, replacing the oldest entry when the ring is full (or the
    /// value of `key` when it is already there).
    fn insert(&mut self, capacity: usize, key: K, value: V) {
        if let Some(&i) = self.index.get(&key) {
            self.slots[i].1 = value;
        } else if self.slots.len() < capacity {
            self.index.insert(key.clone(), self.slots.len());
            self.slots.push((key, value));
        } else {
            let i = self.oldest;
            let (old, _) = std::mem::replace(&mut self.slots[i], (key.clone(), value));
            self.index.remove(&old);
            self.index.insert(key, i);
            self.oldest = (i + 1) % capacity;
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> BoundedCache<K, V> {
    /// An empty cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        BoundedCache {
            capacity: capacity.max(1),
            inner: RwLock::new(Slots {
                slots: Vec::new(),
                oldest: 0,
                index: HashMap::new(),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Slots<K, V>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Slots<K, V>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key`, if cached.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read().get(key).cloned()
    }

    /// The cached value of `key`, building and storing it with `make` on a miss. `make` runs at
    /// most once per key while the key stays cached, even when several threads miss together;
    /// an error is returned and nothing is stored.
    pub fn get_or_try_insert_key<Q, E>(
        &self,
        key: &Q,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.get(key) {
            return Ok(v);
        }
        let mut slots = self.write();
        if let Some(v) = slots.get(key) {
            return Ok(v.clone());
        }
        let v = make()?;
        slots.insert(self.capacity, key.to_owned(), v.clone());
        Ok(v)
    }

    /// The value of the first key `matches` accepts, if any (a scan of every entry).
    pub fn find(&self, matches: impl Fn(&K) -> bool) -> Option<V> {
        self.read().find(matches).cloned()
    }

    /// The cached value of `key` (found with `matches`, a scan of every entry), building and
    /// storing it with `make` on a miss. `make` runs at most once per key while the key stays
    /// cached, even when several threads miss together; an error is returned and nothing is
    /// stored. `matches` must accept the key `key` builds (and no other stored key).
    pub fn get_or_try_insert<E>(
        &self,
        matches: impl Fn(&K) -> bool,
        key: impl FnOnce() -> K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.find(&matches) {
            return Ok(v);
        }
        let mut slots = self.write();
        if let Some(v) = slots.find(&matches) {
            return Ok(v.clone());
        }
        let v = make()?;
        slots.insert(self.capacity, key(), v.clone());
        Ok(v)
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.read().slots.len()
    }

    /// True when the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries the cache holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut slots = self.write();
        slots.slots.clear();
        slots.index.clear();
        slots.oldest = 0;
    }
}

/// The last key asked for and its value, kept by one call (one column evaluation) in front of
/// a [`BoundedCache`] or any other builder: when the key is the same on every row (a literal
/// pattern, zone or format), each row costs one comparison and takes no lock.
#[derive(Debug)]
pub struct LastUsed<K, V> {
    last: Option<(K, V)>,
}

impl<K, V> Default for LastUsed<K, V> {
    fn default() -> Self {
        LastUsed { last: None }
    }
}

impl<K, V> LastUsed<K, V> {
    /// The value of `key`: the remembered one when `key` is the last key asked for, otherwise
    /// the one `make` returns (remembered from now on). An error from `make` is returned and
    /// forgets the last key.
    pub fn get_or_try_insert<Q, E>(
        &mut self,
        key: &Q,
        make: impl FnOnce(&Q) -> Result<V, E>,
    ) -> Result<&V, E>
    where
        K: Borrow<Q>,
        Q: Eq + ToOwned<Owned = K> + ?Sized,
    {
        let entry = match self.last.take() {
            Some(entry) if entry.0.borrow() == key => entry,
            _ => (key.to_owned(), make(key)?),
        };
        Ok(&self.last.insert(entry).1)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    use super::{BoundedCache, LastUsed};

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
        assert_eq!(cache.get_or_try_insert_key(&1, || Err("no")), Err("no"));
        assert!(cache.is_empty());
    }

    #[test]
    fn keyed_lookups_evict_first_in_first_out() {
        let cache: BoundedCache<String, usize> = BoundedCache::new(3);
        let built = AtomicUsize::new(0);
        let get = |k: &str| {
            cache.get_or_try_insert_key(k, || -> Result<usize, ()> {
                built.fetch_add(1, Ordering::Relaxed);
                Ok(k.len())
            })
        };
        for k in ["a", "bb", "ccc"] {
            assert_eq!(get(k), Ok(k.len()));
        }
        // Hits build nothing and do not change the order.
        assert_eq!(get("a"), Ok(1));
        assert_eq!(built.load(Ordering::Relaxed), 3);
        // A fourth key drops the first inserted ("a"), then "bb", ...
        assert_eq!(get("dddd"), Ok(4));
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("bb"), Some(2));
        assert_eq!(get("eeeee"), Ok(5));
        assert_eq!(cache.get("bb"), None);
        assert_eq!(
            ["ccc", "dddd", "eeeee"].map(|k| cache.get(k)),
            [Some(3), Some(4), Some(5)]
        );
        // The predicate scan sees the same entries as the index.
        assert_eq!(cache.find(|k| k == "dddd"), Some(4));
        assert_eq!(cache.find(|k| k == "a"), None);
        // Many more keys: never more than the capacity, the newest ones kept.
        for i in 0..100 {
            get(&format!("k{i}")).unwrap();
            assert!(cache.len() <= cache.capacity());
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(
            ["k97", "k98", "k99", "k96"].map(|k| cache.get(k).is_some()),
            [true, true, true, false]
        );
        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(get("a"), Ok(1));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_key_stored_twice_keeps_one_entry() {
        // A predicate that misses a stored key (a caller's mistake) must not duplicate it.
        let cache: BoundedCache<u8, u8> = BoundedCache::new(4);
        let _: Result<u8, ()> = cache.get_or_try_insert(|k| *k == 1, || 1, || Ok(1));
        let _: Result<u8, ()> = cache.get_or_try_insert(|_| false, || 1, || Ok(2));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&1), Some(2));
    }

    #[test]
    fn concurrent_readers_share_one_build_per_key() {
        const THREADS: usize = 8;
        const KEYS: usize = 32;
        let cache: BoundedCache<String, String> = BoundedCache::new(KEYS);
        let built = AtomicUsize::new(0);
        let start = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (cache, built, start) = (&cache, &built, &start);
                s.spawn(move || {
                    start.wait();
                    for round in 0..50 {
                        for k in 0..KEYS {
                            let key = format!("p{}", (k + t + round) % KEYS);
                            let v = cache
                                .get_or_try_insert_key(key.as_str(), || -> Result<_, ()> {
                                    built.fetch_add(1, Ordering::Relaxed);
                                    Ok(key.to_uppercase())
                                })
                                .unwrap();
                            assert_eq!(v, key.to_uppercase());
                        }
                    }
                });
            }
        });
        // Every key fits, so each was built exactly once however the threads interleaved.
        assert_eq!(built.load(Ordering::Relaxed), KEYS);
        assert_eq!(cache.len(), KEYS);
    }

    #[test]
    fn concurrent_misses_past_the_capacity_stay_bounded() {
        const THREADS: usize = 4;
        let cache: BoundedCache<usize, usize> = BoundedCache::new(8);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let cache = &cache;
                s.spawn(move || {
                    for k in 0..500 {
                        let key = k * THREADS + t;
                        let v = cache
                            .get_or_try_insert_key(&key, || Ok::<_, ()>(key * 2))
                            .unwrap();
                        assert_eq!(v, key * 2);
                        assert!(cache.len() <= 8);
                    }
                });
            }
        });
        assert_eq!(cache.len(), 8);
    }

    #[test]
    fn last_used_builds_again_only_when_the_key_changes() {
        let mut last: LastUsed<String, usize> = LastUsed::default();
        let mut built = 0;
        for k in ["x", "x", "x", "yy", "yy", "x"] {
            let v = *last
                .get_or_try_insert(k, |k: &str| -> Result<usize, ()> {
                    built += 1;
                    Ok(k.len())
                })
                .unwrap();
            assert_eq!(v, k.len());
        }
        assert_eq!(built, 3);
        assert_eq!(last.get_or_try_insert("bad", |_| Err("no")), Err("no"));
        // The failure forgot "x": asking for it builds again.
        let mut again = false;
        last.get_or_try_insert("x", |_| -> Result<usize, ()> {
            again = true;
            Ok(1)
        })
        .unwrap();
        assert!(again);
    }
}
