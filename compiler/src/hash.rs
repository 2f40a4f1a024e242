//! The hash maps and sets of the compiler: std's, with rustc's Fx hash instead of SipHash.
//!
//! Keys are short names, spans and indices; SipHash's resistance to chosen collisions costs
//! about a tenth of a large compilation and buys nothing here: whoever writes the input can
//! already make the build as slow as they like. Iteration order is never observable: every
//! diagnostic is sorted and every manifest is emitted in source order.

/// A hash map with the Fx hash.
pub(crate) type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
/// A hash set with the Fx hash.
pub(crate) type HashSet<T> = rustc_hash::FxHashSet<T>;
