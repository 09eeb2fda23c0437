//! Empty on purpose: this crate only exists for its dependencies (see Cargo.toml).
