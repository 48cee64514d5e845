//! The BPM flows this product ships. Each registers its case type and steps; JSON schemas
//! live beside them (`<flow>/schemas/*.json`, paths relative to this folder, which is the
//! built-in schema root).

pub mod newrepair;

use crate::bpm::Registry;

pub fn registry() -> Registry {
    let mut registry = Registry::default();
    registry.register(newrepair::flows::flow());
    registry
}
