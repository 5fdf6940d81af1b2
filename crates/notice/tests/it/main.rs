//! The notice crate's integration tests, in one binary: validation, the conflict rule and
//! index, the distance error bound, and agreement with PostGIS.

mod conflict;
mod distance_bound;
#[allow(dead_code)] // shared with benches/conflicts, which uses other parts of it
mod pg;
mod postgis_oracle;
mod shapes;
mod validation;
