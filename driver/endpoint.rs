// SPDX-License-Identifier: GPL-2.0

//! Endpoints and the IOMMU-core side of the driver: `iommu_ops` ([`ViommuOps`]), probing
//! endpoints (PROBE for every endpoint ID), attach/detach bookkeeping, identity and blocked
//! domains, reserved regions, fault reporting, and registration.
//!
//! What this needs from [`Viommu`] (driver/mod.rs): `config`, `iommu: IommuState` (pinned),
//! `vdev`, and the request queue (`requestq`), wrapped below.

use super::{domain::VDomain, Viommu};
use crate::sys::iommu::{
    self, Cap, Domain, FaultAccess, Gfp, Ida, Identity, IommuOps, Registration, ResvList,
};
use crate::uapi::{
    config::DeviceConfig,
    fault::{Fault, FaultReason},
    probe::{parse_properties, ResvRegion},
    request::Request,
    resv::{add_region, for_each_report, msi_policy, MsiPolicy, RegionList},
};
use kernel::{
    device::Device,
    new_spinlock_irq,
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
    sync::{aref::ARef, Arc, SpinLockIrq},
};

/// Per-instance IOMMU state, embedded (pinned) in [`Viommu`].
#[pin_data]
pub(crate) struct IommuState {
    /// Domain IDs of paging domains.
    #[pin]
    pub(crate) domain_ids: Ida,
    /// Endpoint ID -> endpoint, for fault reporting (hard IRQ).
    #[pin]
    endpoints: SpinLockIrq<RBTree<u32, Arc<Endpoint>>>,
}

impl IommuState {
    /// Empty state.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            domain_ids <- Ida::new(),
            endpoints <- new_spinlock_irq!(RBTree::new()),
        })
    }

    /// The domain ID of the blocked domain: the last ID of the range, kept out of the paging
    /// range; `None` when the range is a single ID (blocking then falls back to DETACH).
    pub(crate) fn blocked_id(&self, cfg: &DeviceConfig) -> Option<u32> {
        (cfg.last_domain > cfg.first_domain).then_some(cfg.last_domain)
    }

    /// The paging domains endpoints are attached to, each once (for debugfs).
    pub(crate) fn paging_domains(&self) -> Result<KVec<Arc<Domain<VDomain>>>> {
        let table = self.endpoints.lock();
        let mut out: KVec<Arc<Domain<VDomain>>> = KVec::new();
        for ep in table.values() {
            if let Attached::Paging(d) = &*ep.attached.lock() {
                if !out.iter().any(|o| o.id() == d.id()) {
                    // Under a spinlock: atomic allocation.
                    out.push(d.clone(), GFP_ATOMIC)?;
                }
            }
        }
        Ok(out)
    }

    /// The range of paging domain IDs, `[first, last]`.
    pub(crate) fn paging_ids(&self, cfg: &DeviceConfig) -> (u32, u32) {
        match self.blocked_id(cfg) {
            Some(b) => (cfg.first_domain, b.saturating_sub(1)),
            None => (cfg.first_domain, cfg.last_domain),
        }
    }
}

/// Reserved regions of an endpoint, sorted and merged (see [`resv`]).
struct Regions(KVec<ResvRegion>);

impl RegionList for Regions {
    type Error = Error;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, index: usize) -> Option<ResvRegion> {
        self.0.get(index).copied()
    }

    fn insert(&mut self, index: usize, region: ResvRegion) -> Result {
        self.0.reserve(1, GFP_KERNEL)?;
        self.0
            .insert_within_capacity(index, region)
            .map_err(|_| EINVAL)
    }

    fn remove(&mut self, index: usize) {
        let _ = self.0.remove(index);
    }
}

/// What an endpoint device is attached to.
enum Attached {
    /// Nothing yet (or the device's boot state).
    None,
    /// The static identity domain (ATTACH with `ATTACH_F_BYPASS`).
    Identity,
    /// The blocked domain.
    Blocked,
    /// A paging domain (possibly an identity-mapped one).
    Paging(Arc<Domain<VDomain>>),
}

/// An endpoint device: the private data the core keeps for it (`dev_iommu_priv`).
#[pin_data]
pub(crate) struct Endpoint {
    viommu: Arc<Viommu>,
    dev: ARef<Device>,
    ids: KVec<u32>,
    regions: Regions,
    #[pin]
    attached: SpinLockIrq<Attached>,
}

impl Endpoint {
    /// How the MSI doorbells of this endpoint are presented to the core (see [`MsiPolicy`]).
    fn msi_policy(&self) -> MsiPolicy {
        let sw_msi = crate::module_parameters::sw_msi.value();
        msi_policy(&self.regions, sw_msi, cfg!(CONFIG_IRQ_MSI_IOMMU))
    }

    /// Sends `make(id)` for every endpoint ID. On failure, puts the IDs already moved back with
    /// `undo(id)` (best effort), so that the device stays where it was.
    fn for_each_id(
        &self,
        make: impl Fn(u32) -> Request,
        undo: impl Fn(u32) -> Option<Request>,
    ) -> Result {
        for (i, &id) in self.ids.iter().enumerate() {
            if let Err(e) = self.viommu.send(&make(id)).map(drop) {
                dev_err!(self.dev, "request for endpoint {} failed: {:?}\n", id, e);
                for &done in self.ids.iter().take(i) {
                    if let Some(req) = undo(done) {
                        let _ = self.viommu.send(&req);
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// The request that puts endpoint `id` back into the current attachment.
    fn current_request(&self, id: u32) -> Option<Request> {
        let cfg = &self.viommu.config;
        match &*self.attached.lock() {
            Attached::None => None,
            Attached::Identity => cfg.identity_domain.map(|d| Request::Attach {
                domain: d,
                endpoint: id,
                bypass: true,
            }),
            Attached::Blocked => self.viommu.iommu.blocked_id(cfg).map(|d| Request::Attach {
                domain: d,
                endpoint: id,
                bypass: false,
            }),
            Attached::Paging(d) => Some(Request::Attach {
                domain: d.id(),
                endpoint: id,
                bypass: false,
            }),
        }
    }

    /// Records the new attachment and releases the old one. Called only once the device accepted
    /// the change: the old domain's endpoint count never drops before (C weakness 3).
    fn set_attached(&self, new: Attached) {
        let old = core::mem::replace(&mut *self.attached.lock(), new);
        if let Attached::Paging(d) = old {
            d.endpoint_detached();
        }
    }

    /// Attaches to paging domain `domain` (ATTACH for every ID, then replay if it is new).
    pub(crate) fn attach_paging(&self, domain: Arc<Domain<VDomain>>, dev: &Device) -> Result {
        if !Arc::ptr_eq(domain.viommu(), &self.viommu) {
            return Err(EINVAL);
        }
        let id = domain.id();
        self.for_each_id(
            |ep| Request::Attach {
                domain: id,
                endpoint: ep,
                bypass: false,
            },
            |ep| self.current_request(ep),
        )?;
        let r = domain.endpoint_attached();
        if let Err(e) = &r {
            dev_err!(dev, "attach to domain {} incomplete: {:?}\n", id, e);
        }
        // The device moved the endpoint even if the replay failed: keep the record truthful.
        self.set_attached(Attached::Paging(domain));
        r
    }

    /// Sends a DETACH for every ID from the current paging domain, if any.
    fn detach(&self) -> Result {
        let id = match &*self.attached.lock() {
            Attached::Paging(d) => d.id(),
            _ => return Ok(()),
        };
        self.for_each_id(
            |ep| Request::Detach {
                domain: id,
                endpoint: ep,
            },
            |ep| self.current_request(ep),
        )?;
        self.set_attached(Attached::None);
        Ok(())
    }
}

/// The `iommu_ops` implementation of the virtio-iommu.
pub(crate) struct ViommuOps;

crate::declare_iommu_ops!(ViommuOps);

/// A registered virtio-iommu instance (drop it in `remove`, before resetting the device).
pub(crate) type IommuRegistration = Registration<ViommuOps>;

/// Registers `viommu` with the IOMMU core. `vdev` is the virtio device (sysfs parent and name),
/// `hwdev` its transport device, whose fwnode endpoints refer to. Endpoints are probed during
/// the call: the virtqueues must work already.
pub(crate) fn register(
    viommu: &Arc<Viommu>,
    vdev: &Device,
    hwdev: &Device,
    name: &CStr,
) -> Result<Pin<KBox<IommuRegistration>>> {
    IommuRegistration::new(viommu.clone(), vdev, hwdev, name)
}

/// The request queue, as the IOMMU side uses it.
impl Viommu {
    /// The virtio device, for messages.
    pub(crate) fn dev(&self) -> &Device {
        self.vdev.as_ref()
    }

    /// Sends `req` and waits for its reply (process context).
    fn send(&self, req: &Request) -> Result<super::Request> {
        self.requestq.send(self.requestq.request(*req, GFP_KERNEL)?)
    }

    /// Encodes `req` into a request buffer allocated with `gfp` (before taking a lock).
    pub(crate) fn prepare(&self, req: &Request, gfp: Gfp) -> Result<super::Request> {
        self.requestq.request(*req, gfp.flags())
    }

    /// Queues a prepared MAP/UNMAP without waiting (atomic-safe); its status is folded into
    /// the next [`Self::sync`].
    pub(crate) fn queue_prepared(&self, r: super::Request) -> Result {
        self.requestq.queue(r, GFP_ATOMIC)
    }

    /// Queues a MAP/UNMAP without waiting (atomic-safe); see [`Self::queue_prepared`].
    pub(crate) fn queue(&self, req: &Request) -> Result {
        self.queue_prepared(self.prepare(req, Gfp::Atomic)?)
    }

    /// Kicks and waits for every queued request; the first failure among them.
    pub(crate) fn sync(&self) -> Result {
        self.requestq.sync()
    }
}

/// Fetches the reserved regions of endpoint `id` into `regions`.
fn probe_endpoint(viommu: &Viommu, dev: &Device, id: u32, regions: &mut Regions) -> Result {
    let reply = viommu.send(&Request::Probe { endpoint: id })?;
    for r in parse_properties(reply.probe_properties()) {
        match r {
            Ok(region) => add_region(regions, region)?,
            Err(e) => {
                dev_err!(dev, "bad PROBE reply for endpoint {}: {:?}\n", id, e);
                return Err(EINVAL);
            }
        }
    }
    Ok(())
}

#[vtable]
impl IommuOps for ViommuOps {
    type Instance = Viommu;
    type Endpoint = Endpoint;
    type Domain = VDomain;

    fn capable(_dev: &Device, cap: Cap) -> bool {
        matches!(cap, Cap::CacheCoherency | Cap::DeferredFlush)
    }

    fn probe_device(inst: &Arc<Viommu>, dev: &Device) -> Result<Arc<Endpoint>> {
        let fw_ids = iommu::fwspec_ids(dev);
        if fw_ids.is_empty() {
            return Err(ENODEV);
        }
        let mut ids = KVec::with_capacity(fw_ids.len(), GFP_KERNEL)?;
        for &id in fw_ids {
            ids.push(id, GFP_KERNEL)?;
        }
        let mut regions = Regions(KVec::new());
        if inst.config.probe_size > 0 {
            // The spec asks for a PROBE of each endpoint (the C driver probes ids[0] only).
            for &id in ids.iter() {
                probe_endpoint(inst, dev, id, &mut regions)?;
            }
        }
        let ep = Arc::pin_init(
            pin_init!(Endpoint {
                viommu: inst.clone(),
                dev: dev.into(),
                ids,
                regions,
                attached <- new_spinlock_irq!(Attached::None),
            }),
            GFP_KERNEL,
        )?;
        // Endpoint drivers are unbound before the IOMMU is (unbind, module unload).
        if !iommu::link_consumer(dev, inst.dev()) {
            dev_warn!(dev, "no device link to {}\n", inst.dev().name());
        }
        // Publish for fault reporting; nodes are allocated before the IRQ-safe lock.
        let mut nodes = KVec::with_capacity(ep.ids.len(), GFP_KERNEL)?;
        for _ in ep.ids.iter() {
            nodes.push(RBTreeNodeReservation::new(GFP_KERNEL)?, GFP_KERNEL)?;
        }
        let mut table = inst.iommu.endpoints.lock();
        for (&id, node) in ep.ids.iter().zip(nodes) {
            if table.get(&id).is_none() {
                table.insert(node.into_node(id, ep.clone()));
            }
        }
        Ok(ep)
    }

    fn release_device(dev: &Device, ep: Arc<Endpoint>) {
        // Normally parked on the blocked (release) domain already; otherwise leave no mapping
        // reachable.
        if let Err(e) = ep.detach() {
            dev_err!(dev, "detach on release failed: {:?}\n", e);
        }
        ep.set_attached(Attached::None);
        let removed = {
            let mut table = ep.viommu.iommu.endpoints.lock();
            let mut removed = KVec::new();
            for id in ep.ids.iter() {
                if table.get(id).is_some_and(|e| Arc::ptr_eq(e, &ep)) {
                    if let Some(node) = table.remove_node(id) {
                        // Freed outside the lock; on allocation failure, freed here (kfree is
                        // fine under a spinlock).
                        let _ = removed.push(node, GFP_ATOMIC);
                    }
                }
            }
            removed
        };
        drop(removed);
    }

    fn domain_alloc_paging(dev: &Device, ep: &Endpoint) -> Result<Arc<Domain<VDomain>>> {
        VDomain::alloc(&ep.viommu, dev)
    }

    fn domain_alloc_identity(dev: &Device, ep: &Endpoint) -> Result<Identity<VDomain>> {
        if ep.viommu.config.identity_domain.is_some() {
            return Ok(Identity::Static);
        }
        Ok(Identity::Paging(VDomain::alloc_identity(
            &ep.viommu,
            dev,
            &ep.regions.0,
        )?))
    }

    fn attach_identity(_dev: &Device, ep: &Endpoint) -> Result {
        let domain = ep.viommu.config.identity_domain.ok_or(EINVAL)?;
        ep.for_each_id(
            |id| Request::Attach {
                domain,
                endpoint: id,
                bypass: true,
            },
            |id| ep.current_request(id),
        )?;
        ep.set_attached(Attached::Identity);
        Ok(())
    }

    fn attach_blocked(_dev: &Device, ep: &Endpoint) -> Result {
        match ep.viommu.iommu.blocked_id(&ep.viommu.config) {
            // An empty domain: every access faults, whatever the device's bypass setting.
            Some(domain) => ep.for_each_id(
                |id| Request::Attach {
                    domain,
                    endpoint: id,
                    bypass: false,
                },
                |id| ep.current_request(id),
            )?,
            None => ep.detach()?,
        }
        ep.set_attached(Attached::Blocked);
        Ok(())
    }

    fn get_resv_regions(dev: &Device, ep: &Endpoint, list: &mut ResvList<'_>) {
        let policy = ep.msi_policy();
        if let Err(e) = for_each_report(&ep.regions, policy, |r| list.add(r)) {
            dev_err!(dev, "cannot report reserved regions: {:?}\n", e);
            return;
        }
        list.add_dma_regions();
    }

    fn of_xlate(dev: &Device, args: &[u32]) -> Result {
        iommu::add_fwspec_ids(dev, args.get(..1).ok_or(EINVAL)?)
    }
}

/// Reports a fault record from the event queue (hard IRQ) to the current domain of its endpoint
/// (`report_iommu_fault`; the C driver only logs it). The event queue logs it too.
pub(crate) fn report_fault(viommu: &Viommu, fault: &Fault) {
    let (Some(addr), true) = (fault.address, fault.reason == FaultReason::Mapping) else {
        return;
    };
    let access = if fault.write() {
        FaultAccess::Write
    } else {
        FaultAccess::Read
    };
    let table = viommu.iommu.endpoints.lock();
    if let Some(ep) = table.get(&fault.endpoint) {
        let attached = ep.attached.lock();
        if let Attached::Paging(d) = &*attached {
            // No handler (-ENOSYS) is the common case: the event queue's log is the report then.
            let _ = iommu::report_fault(d, &ep.dev, addr, access);
        }
    }
}
