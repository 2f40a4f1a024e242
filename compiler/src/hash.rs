//! The hash maps and sets of the compiler: std's and indexmap's, with rustc's Fx hash instead of
//! SipHash.
//!
//! Keys are short names, spans and indices; SipHash's resistance to chosen collisions costs
//! about a tenth of a large compilation and buys nothing here: whoever writes the input can
//! already make the build as slow as they like. Iteration order is never observable: every
//! diagnostic is sorted and every manifest is emitted in source order (an [`IndexMap`] keeps the
//! order its entries were inserted in, whatever the hash).

/// A hash map with the Fx hash.
pub(crate) type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
/// A hash set with the Fx hash.
pub(crate) type HashSet<T> = rustc_hash::FxHashSet<T>;
/// A map that keeps its entries in insertion order (labels, headers: written as given), with
/// the Fx hash.
pub type IndexMap<K, V> = indexmap::IndexMap<K, V, rustc_hash::FxBuildHasher>;
/// A table of entries whose keys live elsewhere (indices into a list, say): the caller gives
/// each entry's hash, from [`hash_one`], and compares the keys itself.
pub(crate) use hashbrown::HashTable;

/// The Fx hash of `value`, as the maps above hash their keys: for a [`HashTable`].
pub(crate) fn hash_one(value: impl std::hash::Hash) -> u64 {
    use std::hash::BuildHasher as _;
    rustc_hash::FxBuildHasher.hash_one(value)
}
