// SPDX-License-Identifier: GPL-2.0

//! The `iommu_ops` implementation ([`ViommuOps`]): probing endpoints (PROBE for every endpoint
//! ID), domain allocation, identity and blocked attach, reserved regions, fault reporting, and
//! registration with the IOMMU core.

use super::{
    domain::VDomain,
    endpoint::{
        Attached,
        Endpoint,
        Regions, //
    },
    Viommu, //
};
use crate::sys::iommu::{
    self,
    Cap,
    Domain,
    DomainOps,
    FaultAccess,
    Gfp,
    Identity,
    IommuOps,
    Prot,
    Registration,
    ResvList, //
};
use crate::uapi::{
    fault::{
        Fault,
        FaultReason, //
    },
    probe::parse_properties,
    request::Request,
    resv::{
        add_region,
        for_each_report, //
    }, //
};
use kernel::{
    device::Device,
    new_spinlock_irq,
    prelude::*,
    rbtree::RBTreeNodeReservation,
    sync::{
        Arc,
        ArcBorrow, //
    }, //
};

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

    fn probe_device(inst: &Arc<Viommu>, dev: &Device, ids: KVec<u32>) -> Result<Arc<Endpoint>> {
        if iommu::is_bound(dev) {
            // A late probe under a running driver: translation would start under DMA it set up
            // without an IOMMU. Refused (ENODEV: the core then skips the device), loudly.
            dev_err!(
                dev,
                "driver bound before the IOMMU probed it: left untranslated\n"
            );
            return Err(ENODEV);
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

/// The paging domains' ops: `domain.rs` does the work; a sync that finds an UNMAP refused twice
/// fails the domain closed here, since that takes its endpoints.
#[vtable]
impl DomainOps for VDomain {
    type Endpoint = Endpoint;

    fn attach_dev(domain: ArcBorrow<'_, Domain<Self>>, dev: &Device, ep: &Endpoint) -> Result {
        ep.attach_paging(domain.into(), dev)
    }

    fn map_pages(
        domain: &Domain<Self>,
        iova: u64,
        paddr: u64,
        pgsize: usize,
        pgcount: usize,
        prot: Prot,
        gfp: Gfp,
    ) -> Result<usize> {
        VDomain::map(domain, iova, paddr, pgsize, pgcount, prot, gfp)
    }

    fn unmap_pages(domain: &Domain<Self>, iova: u64, pgsize: usize, pgcount: usize) -> usize {
        VDomain::unmap(domain, iova, pgsize, pgcount)
    }

    fn flush_iotlb_all(domain: &Domain<Self>) {
        if let Err(e) = sync(domain) {
            if iommu::fault_ratelimit() {
                dev_err!(domain.viommu().dev(), "flush failed: {:?}\n", e);
            }
        }
    }

    fn iotlb_sync_map(domain: &Domain<Self>, _iova: u64, _size: usize) -> Result {
        sync(domain)
    }

    fn iotlb_sync(domain: &Domain<Self>) {
        if let Err(e) = sync(domain) {
            if iommu::fault_ratelimit() {
                dev_err!(domain.viommu().dev(), "unmap failed: {:?}\n", e);
            }
        }
    }

    fn iova_to_phys(domain: &Domain<Self>, iova: u64) -> u64 {
        VDomain::phys(domain, iova)
    }
}

/// Syncs `domain`. An UNMAP the device refused even when sent again may leave it translating
/// memory the caller frees next: then every endpoint of the domain moves to the blocked domain,
/// so that no stale translation is reachable (DMA faults, visibly, until the core attaches
/// another domain). Said once per occurrence. Atomic-safe (batched requests).
fn sync(domain: &VDomain) -> Result {
    let Err((err, stale)) = domain.sync_if_attached() else {
        return Ok(());
    };
    if stale {
        let (viommu, id) = (domain.viommu(), domain.id());
        let r = viommu.iommu.endpoints_in(id).and_then(|eps| {
            for ep in eps.iter() {
                ep.block(id, domain.batch())?;
            }
            Ok(eps.len())
        });
        match r {
            Ok(n) => dev_err!(
                viommu.dev(),
                "domain {}: UNMAP refused twice; its {} endpoint device(s) blocked\n",
                id,
                n
            ),
            Err(e) => dev_err!(
                viommu.dev(),
                "domain {}: UNMAP refused twice, and blocking its endpoints failed: {:?}\n",
                id,
                e
            ),
        }
    }
    Err(err)
}
