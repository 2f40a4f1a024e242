//! The only place that writes YAML.
//!
//! serde-saphyr quotes every string a YAML 1.1 reader (Kubernetes) would take for something
//! else — `on`, `yes`, `no`, `12:30`, `1e3`, `~` — so values reach the cluster as written.

use super::Manifest;

/// One manifest as a YAML document (no `---`), ending in a newline.
pub fn document(manifest: &Manifest) -> String {
    // Serialising plain data structures into a String cannot fail.
    serde_saphyr::to_string(manifest).expect("serialising a manifest cannot fail")
}

/// Several manifests as one multi-document stream, `---` between documents.
pub fn stream(manifests: &[Manifest]) -> String {
    let mut out = String::new();
    for (index, manifest) in manifests.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        out.push_str(&document(manifest));
    }
    out
}
