//! Host build of the shared `uapi` module tree, for `cargo test`, proptest and
//! cargo-fuzz. The kernel module compiles the very same files through
//! `pub mod uapi;` in its crate root.

#![no_std]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]
#![deny(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

#[cfg(test)]
extern crate std;

#[path = "mod.rs"]
pub mod uapi;

pub use uapi::*;
