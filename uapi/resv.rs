//! Merging the reserved regions of every endpoint ID of a device, and the
//! software-MSI decision.
//!
//! Rules for the merged list:
//! - sorted by `start`, then by kind (`Reserved` before `Msi`);
//! - regions of the same kind that overlap or touch are merged into one, so
//!   identical duplicates (the same region probed through two endpoint IDs)
//!   collapse;
//! - regions of different kinds are both kept even when they overlap (the
//!   IOMMU core accepts overlapping regions of different types, as it does
//!   for `iommu_insert_resv_region`); the identity planner excludes both.

use super::probe::{ResvKind, ResvRegion};

/// Base of the software MSI window the driver reports when the device probed
/// no MSI region (`IOMMU_RESV_SW_MSI`, as the C driver).
pub const SW_MSI_BASE: u64 = 0x0800_0000;
/// Length of the software MSI window (1 MiB).
pub const SW_MSI_LEN: u64 = 0x0010_0000;

/// An ordered list of regions; the kernel implements it over `KVec`, the host
/// over `Vec`, and [`FixedRegions`] over a caller-provided slice.
pub trait RegionList {
    /// Error when the list cannot grow.
    type Error;
    /// Number of regions.
    fn len(&self) -> usize;
    /// Region at `index`.
    fn get(&self, index: usize) -> Option<ResvRegion>;
    /// Inserts `region` at `index` (`index <= len()`), shifting the rest.
    fn insert(&mut self, index: usize, region: ResvRegion) -> Result<(), Self::Error>;
    /// Removes the region at `index`, shifting the rest; no-op if out of range.
    fn remove(&mut self, index: usize);
    /// Whether the list is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The fixed-capacity buffer of a [`FixedRegions`] is full.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CapacityFull;

/// A [`RegionList`] over a caller-provided buffer; no allocation.
#[derive(Debug)]
pub struct FixedRegions<'a> {
    buf: &'a mut [ResvRegion],
    len: usize,
}

impl<'a> FixedRegions<'a> {
    /// An empty list using `buf` as storage (capacity `buf.len()`).
    pub fn new(buf: &'a mut [ResvRegion]) -> Self {
        Self { buf, len: 0 }
    }

    /// The regions, in order.
    pub fn as_slice(&self) -> &[ResvRegion] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl RegionList for FixedRegions<'_> {
    type Error = CapacityFull;

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Option<ResvRegion> {
        self.as_slice().get(index).copied()
    }

    fn insert(&mut self, index: usize, region: ResvRegion) -> Result<(), CapacityFull> {
        let new_len = self.len.checked_add(1).ok_or(CapacityFull)?;
        if index > self.len {
            return Err(CapacityFull);
        }
        let tail = self.buf.get_mut(index..new_len).ok_or(CapacityFull)?;
        tail.rotate_right(1);
        if let Some(slot) = tail.first_mut() {
            *slot = region;
        }
        self.len = new_len;
        Ok(())
    }

    fn remove(&mut self, index: usize) {
        if let Some(tail) = self.buf.get_mut(index..self.len) {
            if !tail.is_empty() {
                tail.rotate_left(1);
                self.len = self.len.saturating_sub(1);
            }
        }
    }
}

fn touches(a: &ResvRegion, b: &ResvRegion) -> bool {
    a.start <= b.end.saturating_add(1) && b.start <= a.end.saturating_add(1)
}

fn sort_key(r: &ResvRegion) -> (u64, ResvKind, u64) {
    (r.start, r.kind, r.end)
}

/// Adds `region` to the sorted, merged `list` (see the module rules).
///
/// Fails only when `region` merges with nothing and the list cannot grow; the
/// list is then unchanged. (When it merges, at least one entry was removed
/// first, so the final insert needs no new room in any sane implementation.)
pub fn add_region<L: RegionList + ?Sized>(
    list: &mut L,
    region: ResvRegion,
) -> Result<(), L::Error> {
    let mut merged = region;
    let mut i = 0usize;
    while let Some(e) = list.get(i) {
        if e.kind == merged.kind && touches(&e, &merged) {
            merged.start = merged.start.min(e.start);
            merged.end = merged.end.max(e.end);
            list.remove(i);
            // Growing may now touch a region already passed: rescan.
            i = 0;
        } else {
            i = i.saturating_add(1);
        }
    }
    let mut at = 0usize;
    while let Some(e) = list.get(at) {
        if sort_key(&e) > sort_key(&merged) {
            break;
        }
        at = at.saturating_add(1);
    }
    list.insert(at, merged)
}

/// How the driver covers MSIs for a device.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MsiChoice {
    /// Report the probed MSI regions as `IOMMU_RESV_MSI`.
    Probed,
    /// Report `[SW_MSI_BASE, SW_MSI_BASE + SW_MSI_LEN)` as `IOMMU_RESV_SW_MSI`.
    SwMsi,
}

/// Chooses the MSI handling: software MSI when no MSI region was probed or
/// when `ignore_probed_msi` (module parameter) is set.
pub fn msi_choice<L: RegionList + ?Sized>(list: &L, ignore_probed_msi: bool) -> MsiChoice {
    if ignore_probed_msi {
        return MsiChoice::SwMsi;
    }
    let mut i = 0usize;
    while let Some(r) = list.get(i) {
        if r.kind == ResvKind::Msi {
            return MsiChoice::Probed;
        }
        i = i.saturating_add(1);
    }
    MsiChoice::SwMsi
}

/// The region as it should be reported to the IOMMU core: when probed MSI
/// regions are ignored they are still kept out of the IOVA space, as
/// `Reserved`.
pub fn region_for_report(r: ResvRegion, choice: MsiChoice) -> ResvRegion {
    match (choice, r.kind) {
        (MsiChoice::SwMsi, ResvKind::Msi) => ResvRegion {
            kind: ResvKind::Reserved,
            ..r
        },
        _ => r,
    }
}
