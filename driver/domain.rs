// SPDX-License-Identifier: GPL-2.0

//! Paging domains: domain IDs, mapping bookkeeping (the protocol core's [`Mappings`] over an
//! `RBTree` under a `SpinLockIrq`), MAP/UNMAP requests, replay on first attach, identity maps.
//!
//! Lock order: a domain's `state` lock, then the request queue's lock (`queue` is called with
//! `state` held so that the order of MAP/UNMAP on the queue is the order of the record).

use super::{
    requestq::Batch,
    Viommu, //
};
use crate::sys::iommu::{
    self,
    Domain,
    Geometry,
    Gfp,
    Prot, //
};
use crate::uapi::{
    mappings::{
        identity_ranges,
        range_last,
        MapError,
        Mapping,
        MappingStore,
        Mappings,
        UnmapPlan, //
    },
    probe::ResvRegion,
    request::Request,
    wire, //
};
use kernel::{
    device::Device,
    new_spinlock_irq,
    prelude::*,
    rbtree::{
        RBTree,
        RBTreeNodeReservation, //
    },
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        SpinLockIrq, //
    }, //
};

/// The [`MappingStore`] of a domain for one operation: the tree, plus at most one node allocated
/// before the lock was taken (insertion never allocates under the lock).
struct Store<'a> {
    tree: &'a mut RBTree<u64, Mapping>,
    spare: Option<RBTreeNodeReservation<u64, Mapping>>,
}

impl MappingStore for Store<'_> {
    type Error = Error;

    fn insert(&mut self, m: Mapping) -> Result {
        let node = self.spare.take().ok_or(ENOMEM)?;
        self.tree.insert(node.into_node(m.iova, m));
        Ok(())
    }

    fn remove(&mut self, iova: u64) -> Option<Mapping> {
        self.tree.remove(&iova)
    }

    fn floor(&self, iova: u64) -> Option<Mapping> {
        match self.tree.cursor_lower_bound(&iova) {
            Some(c) => {
                let (k, v) = c.current();
                if *k == iova {
                    Some(*v)
                } else {
                    c.peek_prev().map(|(_, v)| *v)
                }
            }
            None => self.tree.cursor_back().map(|c| *c.current().1),
        }
    }

    fn ceil(&self, iova: u64) -> Option<Mapping> {
        self.tree.cursor_lower_bound(&iova).map(|c| *c.current().1)
    }
}

/// Mutable state of a paging domain.
struct DomainState {
    /// Every mapping of the domain, keyed by first IOVA.
    tree: RBTree<u64, Mapping>,
    /// Endpoint devices attached. At 0 the device has no such domain (it destroys a domain when
    /// its last endpoint detaches), so nothing is sent and the first attach replays the tree.
    endpoints: usize,
}

impl DomainState {
    fn mappings(
        &mut self,
        spare: Option<RBTreeNodeReservation<u64, Mapping>>,
    ) -> Mappings<Store<'_>> {
        Mappings::new(Store {
            tree: &mut self.tree,
            spare,
        })
    }
}

/// A paging domain of the virtio-iommu (the data of a [`Domain`]).
#[pin_data(PinnedDrop)]
pub(crate) struct VDomain {
    viommu: Arc<Viommu>,
    id: u32,
    /// The domain's MAP/UNMAP requests on the queue: `sync` waits for and reports these only.
    batch: Arc<Batch>,
    /// `endpoints > 0`, written under `state`'s lock, read without it by the syncs.
    attached: Atomic<bool>,
    #[pin]
    state: SpinLockIrq<DomainState>,
}

/// `MAP_F_*` flags for `prot`, or `EINVAL` for MMIO without `F_MMIO`.
fn map_flags(viommu: &Viommu, prot: Prot) -> Result<u32> {
    let mut flags = 0;
    if prot.read() {
        flags |= wire::MAP_F_READ;
    }
    if prot.write() {
        flags |= wire::MAP_F_WRITE;
    }
    if prot.mmio() {
        if !viommu.config.mmio {
            return Err(EINVAL);
        }
        flags |= wire::MAP_F_MMIO;
    }
    Ok(flags)
}

impl VDomain {
    /// Allocates an empty paging domain on `viommu`.
    pub(crate) fn alloc(viommu: &Arc<Viommu>, dev: &Device) -> Result<Arc<Domain<Self>>> {
        let cfg = &viommu.config;
        let page_size = kernel::page::PAGE_SIZE as u64;
        if cfg.granule > page_size {
            dev_err!(
                dev,
                "granule {:#x} larger than system page size {:#x}\n",
                cfg.granule,
                page_size
            );
            return Err(ENODEV);
        }
        let (first, last) = viommu.iommu.paging_ids(cfg);
        let batch = viommu.requestq.new_batch()?;
        let id = viommu.iommu.domain_ids.alloc_range(first, last)?;
        let geometry = Geometry {
            start: cfg.input_start,
            end: cfg.input_end,
            force_aperture: true,
        };
        let r = Domain::new(
            geometry,
            cfg.pgsize_bitmap,
            try_pin_init!(Self {
                viommu: viommu.clone(),
                id,
                batch,
                attached: Atomic::new(false),
                state <- new_spinlock_irq!(DomainState { tree: RBTree::new(), endpoints: 0 }),
            }? Error),
        );
        if r.is_err() {
            viommu.iommu.domain_ids.free(id);
        }
        r
    }

    /// Allocates a paging domain mapped 1:1 over the aperture, minus the `regions` of the
    /// endpoint (identity domain without `F_BYPASS_CONFIG`).
    pub(crate) fn alloc_identity(
        viommu: &Arc<Viommu>,
        dev: &Device,
        regions: &[ResvRegion],
    ) -> Result<Arc<Domain<Self>>> {
        let dom = Self::alloc(viommu, dev)?;
        let cfg = &viommu.config;
        let flags = wire::MAP_F_READ | wire::MAP_F_WRITE;
        for (start, end) in identity_ranges(cfg.input_start, cfg.input_end, regions, cfg.granule) {
            let spare = RBTreeNodeReservation::new(GFP_KERNEL)?;
            let size = end.wrapping_sub(start).checked_add(1).ok_or(EOVERFLOW)?;
            let mut st = dom.state.lock();
            st.mappings(Some(spare))
                .map(start, start, size, flags)
                .map_err(|_| EINVAL)?;
        }
        Ok(dom)
    }

    /// The device's domain ID.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// The IOMMU instance of the domain.
    pub(crate) fn viommu(&self) -> &Arc<Viommu> {
        &self.viommu
    }

    /// Records that one more endpoint device is attached (after its ATTACH succeeded); the first
    /// one replays every mapping, since the device created the domain empty. On a replay failure
    /// the count is undone and the error returned: the caller moves the endpoint back.
    pub(crate) fn endpoint_attached(&self) -> Result {
        let replay = || -> Result<usize> {
            let mut st = self.state.lock();
            let first = st.endpoints == 0;
            st.endpoints = st.endpoints.saturating_add(1);
            self.attached.store(true, Relaxed);
            let mut n = 0usize;
            if first {
                for m in st.mappings(None).iter() {
                    // Under the lock, so: atomic allocation.
                    self.viommu
                        .queue(&Request::map_from(self.id, &m), &self.batch)?;
                    n = n.saturating_add(1);
                }
            }
            Ok(n)
        };
        let r = replay().and_then(|n| match n {
            0 => Ok(()),
            n => self.viommu.sync(&self.batch).inspect_err(|e| {
                dev_err!(
                    self.viommu.dev(),
                    "replaying {} mappings of domain {} failed: {:?}\n",
                    n,
                    self.id,
                    e
                );
            }),
        });
        if r.is_err() {
            self.endpoint_detached();
        }
        r
    }

    /// Records that an endpoint device left the domain (ATTACH elsewhere or DETACH succeeded).
    pub(crate) fn endpoint_detached(&self) {
        let mut st = self.state.lock();
        st.endpoints = st.endpoints.saturating_sub(1);
        self.attached.store(st.endpoints > 0, Relaxed);
    }

    /// Writes one line per mapping: domain ID, first and last IOVA, physical address, flags
    /// (`r`, `w`, `m` for MMIO, `-` when absent), for debugfs.
    pub(crate) fn write_mappings(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut st = self.state.lock();
        for m in st.mappings(None).iter() {
            let flag = |bit, c| if m.flags & bit != 0 { c } else { '-' };
            writeln!(
                f,
                "{} {:#018x} {:#018x} {:#018x} {}{}{}",
                self.id,
                m.iova,
                m.last,
                m.phys,
                flag(wire::MAP_F_READ, 'r'),
                flag(wire::MAP_F_WRITE, 'w'),
                flag(wire::MAP_F_MMIO, 'm')
            )?;
        }
        Ok(())
    }

    fn attached(&self) -> bool {
        self.attached.load(Relaxed)
    }

    /// Syncs the domain's requests if the device has the domain. On failure, also whether an
    /// UNMAP was refused even when sent again (the device may still translate its range: the
    /// caller then fails the domain closed).
    pub(super) fn sync_if_attached(&self) -> core::result::Result<(), (Error, bool)> {
        if !self.attached() {
            return Ok(());
        }
        self.viommu
            .sync(&self.batch)
            .map_err(|e| (e, self.viommu.requestq.take_stale(&self.batch)))
    }

    /// The domain's batch (its MAP/UNMAP requests on the queue).
    pub(super) fn batch(&self) -> &Arc<Batch> {
        &self.batch
    }
}

#[pinned_drop]
impl PinnedDrop for VDomain {
    fn drop(self: Pin<&mut Self>) {
        self.viommu.iommu.domain_ids.free(self.id);
    }
}

/// The paging-domain callbacks, forwarded to by the `DomainOps` table (`ops.rs`).
impl VDomain {
    /// MAP: records the range and queues the request (synced by `iotlb_sync_map`).
    pub(super) fn map(
        domain: &Domain<Self>,
        iova: u64,
        paddr: u64,
        pgsize: usize,
        pgcount: usize,
        prot: Prot,
        gfp: Gfp,
    ) -> Result<usize> {
        let size = pgsize.checked_mul(pgcount).ok_or(EINVAL)?;
        let flags = map_flags(&domain.viommu, prot)?;
        let last = range_last(iova, size as u64).ok_or(EINVAL)?;
        // Everything that allocates is done before the lock, with the caller's `gfp` (the C
        // driver allocates with GFP_ATOMIC whatever the caller allows).
        let spare = RBTreeNodeReservation::new(gfp.flags())?;
        let req = domain.viommu.prepare(
            &Request::Map {
                domain: domain.id,
                virt_start: iova,
                virt_end: last,
                phys_start: paddr,
                flags,
            },
            gfp,
        )?;
        let mut guard = domain.state.lock();
        let st = &mut *guard;
        let attached = st.endpoints > 0;
        let mut maps = st.mappings(Some(spare));
        let m = maps
            .map(iova, paddr, size as u64, flags)
            .map_err(|e| match e {
                MapError::BadRange => EINVAL,
                MapError::Overlap { .. } => EEXIST,
                MapError::Store(e) => e,
            })?;
        if attached {
            if let Err(e) = domain.viommu.queue_prepared(req, &domain.batch) {
                maps.remove_exact(m.iova);
                return Err(e);
            }
        }
        Ok(size)
    }

    /// UNMAP: drops whole mappings from the record and queues the request (synced by
    /// `iotlb_sync`); returns the bytes unmapped, 0 for a range that would split a mapping.
    pub(super) fn unmap(domain: &Domain<Self>, iova: u64, pgsize: usize, pgcount: usize) -> usize {
        let Some(size) = pgsize.checked_mul(pgcount) else {
            return 0;
        };
        let Some(last) = range_last(iova, size as u64) else {
            return 0;
        };
        // Allocated before the lock (atomic: unmap may be called in atomic context), encoded
        // again under it with the range the record gives.
        let unmap = |virt_start, virt_end| Request::Unmap {
            domain: domain.id,
            virt_start,
            virt_end,
        };
        let Ok(mut req) = domain.viommu.prepare(&unmap(iova, last), Gfp::Atomic) else {
            return 0;
        };
        let mut guard = domain.state.lock();
        let st = &mut *guard;
        let attached = st.endpoints > 0;
        let mut maps = st.mappings(None);
        let plan = maps.plan_unmap(iova, size as u64);
        match plan {
            UnmapPlan::Nothing => 0,
            UnmapPlan::Split { straddling } => {
                if iommu::fault_ratelimit() {
                    dev_err!(
                        domain.viommu.dev(),
                        "unmap {:#x}+{:#x} would split mapping {:#x}-{:#x}\n",
                        iova,
                        size,
                        straddling.iova,
                        straddling.last
                    );
                }
                0
            }
            UnmapPlan::Unmap {
                virt_start,
                virt_end,
                ..
            } => {
                if attached {
                    let queued = req
                        .set_unmap(unmap(virt_start, virt_end))
                        .and_then(|()| domain.viommu.queue_prepared(req, &domain.batch));
                    if queued.is_err() {
                        return 0;
                    }
                }
                usize::try_from(maps.commit_unmap(&plan)).unwrap_or(usize::MAX)
            }
        }
    }

    /// The physical address `iova` maps to, or 0.
    pub(super) fn phys(domain: &Domain<Self>, iova: u64) -> u64 {
        domain
            .state
            .lock()
            .mappings(None)
            .iova_to_phys(iova)
            .unwrap_or(0)
    }
}
