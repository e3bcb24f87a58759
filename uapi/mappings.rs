// SPDX-License-Identifier: GPL-2.0

//! Mapping bookkeeping of a paging domain, the UNMAP planner, and the
//! identity-map planner.
//!
//! Device semantics (virtio 1.3 §5.13.6.5–6, QEMU): a mapping is exactly what
//! one MAP created; a MAP overlapping an existing mapping fails with INVAL;
//! an UNMAP `[start, end]` removes every mapping entirely inside the range
//! and fails with RANGE (removing nothing) if a mapping straddles a boundary.
//!
//! The planner turns an `unmap(iova, size)` of the IOMMU core into one UNMAP
//! whose range removes on the device exactly the mappings removed from the
//! record, whatever holes the range contains (the C driver removes records
//! before its size check and sends `[iova, iova + unmapped - 1]`, which is
//! wrong as soon as there is a hole). Planning does not modify the record;
//! [`Mappings::commit_unmap`] does, after the device accepted the UNMAP (or
//! at once when no endpoint is attached and nothing is sent).

use super::probe::ResvRegion;

/// One mapping `[iova, last] -> phys`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mapping {
    /// First IOVA.
    pub iova: u64,
    /// Last IOVA (inclusive), `>= iova`.
    pub last: u64,
    /// Physical address of `iova`.
    pub phys: u64,
    /// `MAP_F_*` flags.
    pub flags: u32,
}

impl Mapping {
    /// Size in bytes, saturating at `u64::MAX` for the full 64-bit space.
    pub const fn size(&self) -> u64 {
        self.last.wrapping_sub(self.iova).saturating_add(1)
    }

    /// Whether `iova` lies inside the mapping.
    pub const fn contains(&self, iova: u64) -> bool {
        self.iova <= iova && iova <= self.last
    }
}

/// Ordered map from IOVA start to [`Mapping`]; the kernel implements it with
/// `RBTree<u64, Mapping>` (nodes reserved before taking the lock), the host
/// with `BTreeMap`.
pub trait MappingStore {
    /// Error when inserting fails (allocation).
    type Error;
    /// Inserts `m` keyed by `m.iova`; the key is known to be absent.
    fn insert(&mut self, m: Mapping) -> Result<(), Self::Error>;
    /// Removes and returns the mapping keyed by `iova`.
    fn remove(&mut self, iova: u64) -> Option<Mapping>;
    /// The mapping with the greatest key `<= iova`.
    fn floor(&self, iova: u64) -> Option<Mapping>;
    /// The mapping with the smallest key `>= iova`.
    fn ceil(&self, iova: u64) -> Option<Mapping>;
}

/// Why a map was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapError<E> {
    /// `size` is zero or `iova + size` overflows 64 bits.
    BadRange,
    /// The range overlaps `existing` (the device would answer INVAL).
    Overlap {
        /// An existing mapping that overlaps.
        existing: Mapping,
    },
    /// The store failed.
    Store(E),
}

/// What to do for an `unmap(iova, size)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnmapPlan {
    /// No mapping overlaps the range: send nothing, return 0.
    Nothing,
    /// A mapping starts before `iova` and overlaps the range: unmapping would
    /// split it. Send nothing, remove nothing, return 0.
    Split {
        /// The straddling mapping.
        straddling: Mapping,
    },
    /// Send `UNMAP [virt_start, virt_end]`, then commit. `virt_start` is the
    /// requested `iova` and `virt_end` is extended to the end of the last
    /// overlapping mapping, so the device removes exactly those mappings.
    Unmap {
        /// UNMAP range start (the requested iova).
        virt_start: u64,
        /// UNMAP range end (inclusive).
        virt_end: u64,
        /// Number of mappings removed.
        count: usize,
        /// Bytes unmapped: the sum of their sizes (what `unmap_pages`
        /// returns). May exceed `size` when the last mapping extends past
        /// the requested range; may be less when the range has holes.
        bytes: u64,
    },
}

impl UnmapPlan {
    /// Bytes `unmap_pages` returns once the plan has been carried out.
    pub const fn bytes(&self) -> u64 {
        match self {
            Self::Unmap { bytes, .. } => *bytes,
            _ => 0,
        }
    }
}

/// The mappings of one paging domain.
#[derive(Debug, Default)]
pub struct Mappings<S> {
    store: S,
}

/// Last address of `[iova, iova + size)`, or `None` when `size == 0` or the
/// range wraps past 2^64.
pub const fn range_last(iova: u64, size: u64) -> Option<u64> {
    match size.checked_sub(1) {
        Some(s) => iova.checked_add(s),
        None => None,
    }
}

impl<S: MappingStore> Mappings<S> {
    /// Wraps an empty `store`.
    pub const fn new(store: S) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Consumes `self`, returning the store.
    pub fn into_inner(self) -> S {
        self.store
    }

    /// The mapping containing `iova`.
    pub fn find(&self, iova: u64) -> Option<Mapping> {
        self.store.floor(iova).filter(|m| m.contains(iova))
    }

    /// Translates `iova` (`iova_to_phys`); `None` when unmapped.
    pub fn iova_to_phys(&self, iova: u64) -> Option<u64> {
        let m = self.find(iova)?;
        m.phys.checked_add(iova.wrapping_sub(m.iova))
    }

    /// The first mapping overlapping `[iova, last]`, if any.
    pub fn first_overlap(&self, iova: u64, last: u64) -> Option<Mapping> {
        if let Some(m) = self.store.floor(iova) {
            if m.last >= iova {
                return Some(m);
            }
        }
        self.store.ceil(iova).filter(|m| m.iova <= last)
    }

    /// Records a new mapping of `size` bytes at `iova`. Refuses a zero or
    /// wrapping size and any overlap; the record is unchanged on error.
    pub fn map(
        &mut self,
        iova: u64,
        phys: u64,
        size: u64,
        flags: u32,
    ) -> Result<Mapping, MapError<S::Error>> {
        let last = range_last(iova, size).ok_or(MapError::BadRange)?;
        if let Some(existing) = self.first_overlap(iova, last) {
            return Err(MapError::Overlap { existing });
        }
        let m = Mapping {
            iova,
            last,
            phys,
            flags,
        };
        self.store.insert(m).map_err(MapError::Store)?;
        Ok(m)
    }

    /// Removes the mapping that starts exactly at `iova` (rollback of a
    /// failed MAP).
    pub fn remove_exact(&mut self, iova: u64) -> Option<Mapping> {
        self.store.remove(iova)
    }

    /// Plans `unmap(iova, size)`; does not modify the record.
    ///
    /// A zero or wrapping size plans nothing (the range is clamped to the top
    /// of the 64-bit space for wrapping sizes).
    pub fn plan_unmap(&self, iova: u64, size: u64) -> UnmapPlan {
        if size == 0 {
            return UnmapPlan::Nothing;
        }
        let last = range_last(iova, size).unwrap_or(u64::MAX);
        if let Some(m) = self.store.floor(iova) {
            if m.iova < iova && m.last >= iova {
                return UnmapPlan::Split { straddling: m };
            }
        }
        let mut count = 0usize;
        let mut bytes = 0u64;
        let mut virt_end = None;
        let mut cursor = Some(iova);
        while let Some(c) = cursor {
            let Some(m) = self.store.ceil(c) else { break };
            if m.iova > last {
                break;
            }
            count = count.saturating_add(1);
            bytes = bytes.saturating_add(m.size());
            virt_end = Some(m.last);
            cursor = m.last.checked_add(1);
        }
        match virt_end {
            None => UnmapPlan::Nothing,
            Some(virt_end) => UnmapPlan::Unmap {
                virt_start: iova,
                virt_end,
                count,
                bytes,
            },
        }
    }

    /// Removes the mappings a successful `UNMAP [virt_start, virt_end]`
    /// removed on the device: those entirely inside the range. Returns the
    /// bytes removed. A plan other than `Unmap` removes nothing.
    pub fn commit_unmap(&mut self, plan: &UnmapPlan) -> u64 {
        match *plan {
            UnmapPlan::Unmap {
                virt_start,
                virt_end,
                ..
            } => self.remove_contained(virt_start, virt_end),
            _ => 0,
        }
    }

    /// Device semantics of `UNMAP [start, end]`: removes every mapping
    /// entirely inside the range, unless one straddles a boundary, in which
    /// case nothing is removed and `Err(straddling)` is returned (RANGE).
    /// Returns the bytes removed.
    pub fn device_unmap(&mut self, start: u64, end: u64) -> Result<u64, Mapping> {
        if start > end {
            return Ok(0);
        }
        if let Some(m) = self.first_overlap(start, end) {
            if m.iova < start {
                return Err(m);
            }
        }
        if let Some(m) = self.store.floor(end) {
            if m.iova >= start && m.last > end {
                return Err(m);
            }
        }
        Ok(self.remove_contained(start, end))
    }

    fn remove_contained(&mut self, start: u64, end: u64) -> u64 {
        let mut bytes = 0u64;
        let mut cursor = Some(start);
        while let Some(c) = cursor {
            let Some(m) = self.store.ceil(c) else { break };
            if m.iova > end {
                break;
            }
            cursor = m.last.checked_add(1);
            if m.last <= end {
                self.store.remove(m.iova);
                bytes = bytes.saturating_add(m.size());
            }
        }
        bytes
    }

    /// All mappings in IOVA order (replay after re-attach, domain teardown).
    pub fn iter(&self) -> MappingIter<'_, S> {
        MappingIter {
            store: &self.store,
            cursor: Some(0),
        }
    }

    /// Removes every mapping; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let mut n = 0usize;
        while let Some(m) = self.store.ceil(0) {
            self.store.remove(m.iova);
            n = n.saturating_add(1);
        }
        n
    }
}

/// In-order iterator over the mappings of a [`Mappings`].
#[derive(Debug)]
pub struct MappingIter<'a, S> {
    store: &'a S,
    cursor: Option<u64>,
}

impl<S: MappingStore> Iterator for MappingIter<'_, S> {
    type Item = Mapping;

    fn next(&mut self) -> Option<Mapping> {
        let m = self.store.ceil(self.cursor?)?;
        // `m.iova + 1`, not `m.last + 1`: the iterator stays correct even if
        // the store were to hold overlapping entries.
        self.cursor = m.iova.checked_add(1);
        Some(m)
    }
}

/// Iterator over the granule-aligned 1:1 ranges `[start, end]` that cover an
/// aperture minus reserved regions (identity domain without
/// `F_BYPASS_CONFIG`). Reserved regions are widened outwards to the granule,
/// the aperture is narrowed inwards. All arithmetic is done in `u128`, so an
/// aperture ending at `u64::MAX` is handled.
#[derive(Clone, Debug)]
pub struct IdentityRanges<'a> {
    regions: &'a [ResvRegion],
    idx: usize,
    cursor: u128,
    limit: u128,
    mask: u128,
}

// Only add/sub/and/not/compare on `u128`: those are inlined on every
// target, whereas u128 division calls `__umodti3`, which the kernel does not
// provide (it panics there).
fn align_down(x: u128, mask: u128) -> u128 {
    x & !mask
}

fn align_up(x: u128, mask: u128) -> u128 {
    // x <= 2^64 and mask < 2^64 here, so the addition cannot overflow.
    align_down(x.saturating_add(mask), mask)
}

/// Plans the identity map of `[start, end]` around `regions` (sorted by
/// start; overlapping allowed) with IOMMU page size `granule` (0 is treated
/// as 1, a non-power of two is rounded up to the next power of two).
pub fn identity_ranges(
    start: u64,
    end: u64,
    regions: &[ResvRegion],
    granule: u64,
) -> IdentityRanges<'_> {
    let g = granule
        .max(1)
        .checked_next_power_of_two()
        .unwrap_or(1 << 63);
    let mask = u128::from(g.wrapping_sub(1));
    let cursor = align_up(u128::from(start), mask);
    let limit = align_down(u128::from(end).saturating_add(1), mask);
    IdentityRanges {
        regions,
        idx: 0,
        cursor,
        limit: if start > end { 0 } else { limit },
        mask,
    }
}

impl Iterator for IdentityRanges<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        if self.cursor >= self.limit {
            return None;
        }
        while let Some(r) = self.regions.get(self.idx) {
            self.idx = self.idx.saturating_add(1);
            let rs = align_down(u128::from(r.start), self.mask);
            let re = align_up(u128::from(r.end).saturating_add(1), self.mask);
            if re <= self.cursor {
                continue;
            }
            if rs >= self.limit {
                self.idx = self.regions.len();
                break;
            }
            if rs > self.cursor {
                let out = (self.cursor, rs.saturating_sub(1));
                self.cursor = re;
                return to_u64_pair(out);
            }
            self.cursor = re;
            if self.cursor >= self.limit {
                return None;
            }
        }
        let out = (self.cursor, self.limit.saturating_sub(1));
        self.cursor = self.limit;
        to_u64_pair(out)
    }
}

fn to_u64_pair((a, b): (u128, u128)) -> Option<(u64, u64)> {
    Some((u64::try_from(a).ok()?, u64::try_from(b).ok()?))
}
