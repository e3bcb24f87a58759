// SPDX-License-Identifier: GPL-2.0

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

extern crate alloc;

/// Host implementations of the storage traits and a naive spec device, for
/// tests, proptest and fuzzing. Not part of the kernel build.
pub mod testing {
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use core::convert::Infallible;

    use crate::mappings::{Mapping, MappingStore};
    use crate::probe::ResvRegion;
    use crate::resv::RegionList;
    use crate::wire;

    /// [`MappingStore`] over a `BTreeMap`.
    #[derive(Debug, Default, Clone)]
    pub struct BTreeStore(pub BTreeMap<u64, Mapping>);

    impl MappingStore for BTreeStore {
        type Error = Infallible;

        fn insert(&mut self, m: Mapping) -> Result<(), Infallible> {
            self.0.insert(m.iova, m);
            Ok(())
        }

        fn remove(&mut self, iova: u64) -> Option<Mapping> {
            self.0.remove(&iova)
        }

        fn floor(&self, iova: u64) -> Option<Mapping> {
            self.0.range(..=iova).next_back().map(|(_, m)| *m)
        }

        fn ceil(&self, iova: u64) -> Option<Mapping> {
            self.0.range(iova..).next().map(|(_, m)| *m)
        }
    }

    /// [`RegionList`] over a `Vec`.
    #[derive(Debug, Default, Clone)]
    pub struct VecRegions(pub Vec<ResvRegion>);

    impl RegionList for VecRegions {
        type Error = Infallible;

        fn len(&self) -> usize {
            self.0.len()
        }

        fn get(&self, index: usize) -> Option<ResvRegion> {
            self.0.get(index).copied()
        }

        fn insert(&mut self, index: usize, region: ResvRegion) -> Result<(), Infallible> {
            if index <= self.0.len() {
                self.0.insert(index, region);
            } else {
                self.0.push(region);
            }
            Ok(())
        }

        fn remove(&mut self, index: usize) {
            if index < self.0.len() {
                self.0.remove(index);
            }
        }
    }

    /// A deliberately naive device following the spec text: a flat list of
    /// mappings, MAP fails with INVAL on overlap, UNMAP removes mappings
    /// entirely inside the range and fails with RANGE (removing nothing) if
    /// one straddles a boundary.
    #[derive(Debug, Default, Clone)]
    pub struct SpecDevice {
        /// Current mappings, unordered.
        pub maps: Vec<Mapping>,
    }

    impl SpecDevice {
        /// Handles MAP; returns the status byte.
        pub fn map(&mut self, m: Mapping) -> u8 {
            if m.iova > m.last {
                return wire::S_INVAL;
            }
            if self
                .maps
                .iter()
                .any(|o| o.iova <= m.last && m.iova <= o.last)
            {
                return wire::S_INVAL;
            }
            self.maps.push(m);
            wire::S_OK
        }

        /// Handles UNMAP `[start, end]`; returns the status byte.
        pub fn unmap(&mut self, start: u64, end: u64) -> u8 {
            let overlapping = |o: &Mapping| o.iova <= end && start <= o.last;
            if self
                .maps
                .iter()
                .any(|o| overlapping(o) && (o.iova < start || o.last > end))
            {
                return wire::S_RANGE;
            }
            self.maps.retain(|o| !overlapping(o));
            wire::S_OK
        }

        /// Mappings sorted by IOVA.
        pub fn sorted(&self) -> Vec<Mapping> {
            let mut v = self.maps.clone();
            v.sort_by_key(|m| m.iova);
            v
        }
    }
}
