//! A small least-recently-used map, for the query embeddings [`super::Index`]
//! keeps: a hit is one hash lookup; a miss that makes room scans the
//! entries once, which costs far less than the embedding the miss computes.

use std::collections::HashMap;
use std::hash::Hash;

pub struct Lru<K, V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (u64, V)>,
}

impl<K: Eq + Hash + Clone, V: Clone> Lru<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), tick: 0, entries: HashMap::new() }
    }

    /// The value of `key`, marked as the most recently used.
    pub fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(used, v)| {
            *used = tick;
            v.clone()
        })
    }

    /// Stores `value` under `key`, dropping the least recently used entry
    /// when the map is full.
    pub fn put(&mut self, key: K, value: V) {
        self.tick += 1;
        if !self.entries.contains_key(&key)
            && self.entries.len() >= self.capacity
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, (self.tick, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_makes_room() {
        let mut lru = Lru::new(2);
        lru.put("a".to_string(), 1);
        lru.put("b".to_string(), 2);
        assert_eq!(lru.get("a"), Some(1), "a is now the most recent");
        lru.put("c".to_string(), 3);
        assert_eq!(lru.entries.len(), 2);
        assert_eq!(lru.get("b"), None, "b was the least recently used");
        assert_eq!(lru.get("a"), Some(1));
        assert_eq!(lru.get("c"), Some(3));
        // Replacing a present key evicts nothing.
        lru.put("c".to_string(), 4);
        assert_eq!((lru.entries.len(), lru.get("a"), lru.get("c")), (2, Some(1), Some(4)));
    }
}
