// SPDX-License-Identifier: GPL-2.0

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

/// How the driver presents MSI doorbells to the IOMMU core.
///
/// QEMU's device reports the doorbell of the platform's MSI controller (x86:
/// `0xfee00000`, arm64 GICv3: the ITS translater page) as an MSI *bypass*
/// region: it never translates accesses there. What the IOMMU core should be
/// told depends on who maps doorbells on the platform:
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MsiPolicy {
    /// Report the probed MSI regions as `IOMMU_RESV_MSI`. Right where no MSI
    /// controller asks dma-iommu to map its doorbell (x86), and what the C
    /// driver does everywhere.
    Bypass,
    /// Report the single probed MSI region as `IOMMU_RESV_SW_MSI` at the same
    /// address, plus a `Reserved` region over it. Where the MSI controller
    /// maps its doorbell through dma-iommu (`CONFIG_IRQ_MSI_IOMMU`, e.g. the
    /// GICv3 ITS), a domain without an MSI cookie cannot take MSIs (VFIO type1
    /// sets a cookie only for a software MSI window); with this window the
    /// cookie maps the doorbell 1:1, which the device bypasses anyway, and DMA
    /// domains map it at an IOVA of their own. `Reserved` keeps DMA buffers
    /// out of the window, which dma-iommu does not do for `SW_MSI`.
    Doorbell,
    /// Ignore probed MSI regions (reported as `Reserved`, since the device
    /// still bypasses them) and report `[SW_MSI_BASE, +SW_MSI_LEN)` as
    /// `IOMMU_RESV_SW_MSI`: doorbells reach the controller only through IOMMU
    /// mappings. Used when nothing was probed, when several MSI regions were
    /// probed on a `Doorbell` platform (the core accepts one software window),
    /// or on request (module parameter `sw_msi`).
    Software,
}

/// Chooses the [`MsiPolicy`] for an endpoint whose merged probed regions are
/// `list`. `sw_msi`: the module parameter; `core_maps_doorbells`: the
/// platform's MSI controllers map doorbells through dma-iommu.
pub fn msi_policy<L: RegionList + ?Sized>(
    list: &L,
    sw_msi: bool,
    core_maps_doorbells: bool,
) -> MsiPolicy {
    let mut msi = 0usize;
    let mut i = 0usize;
    while let Some(r) = list.get(i) {
        if r.kind == ResvKind::Msi {
            msi = msi.saturating_add(1);
        }
        i = i.saturating_add(1);
    }
    match (sw_msi, msi, core_maps_doorbells) {
        (true, _, _) | (false, 0, _) => MsiPolicy::Software,
        (false, _, false) => MsiPolicy::Bypass,
        (false, 1, true) => MsiPolicy::Doorbell,
        (false, _, true) => MsiPolicy::Software,
    }
}

/// Type of a region reported to the IOMMU core (`enum iommu_resv_type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReportType {
    /// `IOMMU_RESV_RESERVED`.
    Reserved,
    /// `IOMMU_RESV_MSI`: hardware MSI window, not translated.
    Msi,
    /// `IOMMU_RESV_SW_MSI`: IOVA window where the core maps doorbells.
    SwMsi,
}

/// One region to report: `[start, end]` of type `ty`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Report {
    /// First address.
    pub start: u64,
    /// Last address (inclusive).
    pub end: u64,
    /// Type.
    pub ty: ReportType,
}

/// Calls `emit` for every region to report for the probed `list` under
/// `policy`, in the list's order, the software window last; stops at the
/// first error.
pub fn for_each_report<L: RegionList + ?Sized, E>(
    list: &L,
    policy: MsiPolicy,
    mut emit: impl FnMut(Report) -> Result<(), E>,
) -> Result<(), E> {
    let mut i = 0usize;
    while let Some(r) = list.get(i) {
        i = i.saturating_add(1);
        let (start, end) = (r.start, r.end);
        let ty = match (r.kind, policy) {
            (ResvKind::Reserved, _) | (ResvKind::Msi, MsiPolicy::Software) => ReportType::Reserved,
            (ResvKind::Msi, MsiPolicy::Bypass) => ReportType::Msi,
            (ResvKind::Msi, MsiPolicy::Doorbell) => {
                emit(Report {
                    start,
                    end,
                    ty: ReportType::Reserved,
                })?;
                ReportType::SwMsi
            }
        };
        emit(Report { start, end, ty })?;
    }
    if policy == MsiPolicy::Software {
        emit(Report {
            start: SW_MSI_BASE,
            end: SW_MSI_BASE + (SW_MSI_LEN - 1),
            ty: ReportType::SwMsi,
        })?;
    }
    Ok(())
}
