// SPDX-License-Identifier: GPL-2.0

//! The `#[vtable]` traits of an IOMMU driver and the C tables built from them.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use super::{
    domain::Domain,
    domain_ops::{
        DomainOps,
        DomainOpsTable, //
    },
    resv::ResvList, //
};
use crate::sys::bindings as hb;
use kernel::{
    bindings,
    device::Device,
    error::{
        from_result,
        VTABLE_DEFAULT_ERROR, //
    },
    ffi,
    prelude::*,
    sync::{
        Arc,
        ArcBorrow, //
    },
    types::Opaque,
    ModuleMetadata, //
};

/// An IOMMU capability queried by `capable()`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Cap {
    /// `IOMMU_CAP_CACHE_COHERENCY`: `IOMMU_CACHE` is supported (VFIO requires it).
    CacheCoherency,
    /// `IOMMU_CAP_DEFERRED_FLUSH`: lazy invalidation (flush queue) is fine.
    DeferredFlush,
    /// Any other capability.
    Other(u32),
}

impl Cap {
    fn from_raw(cap: bindings::iommu_cap) -> Self {
        match cap {
            bindings::iommu_cap_IOMMU_CAP_CACHE_COHERENCY => Self::CacheCoherency,
            bindings::iommu_cap_IOMMU_CAP_DEFERRED_FLUSH => Self::DeferredFlush,
            other => Self::Other(other),
        }
    }
}

/// Result of [`IommuOps::domain_alloc_identity`].
pub(crate) enum Identity<D> {
    /// Use the module's static identity domain ([`IommuOps::attach_identity`]).
    Static,
    /// Use this paging domain, already mapped 1:1.
    Paging(Arc<Domain<D>>),
}

/// Operations of an IOMMU driver (`struct iommu_ops`).
///
/// `device_group` is always provided (`pci_device_group` or `generic_device_group`).
#[vtable]
pub(crate) trait IommuOps: StaticDomains + Sized + 'static {
    /// Driver data of one IOMMU instance, given to [`Registration`](super::Registration).
    type Instance: Send + Sync;
    /// Private data of an endpoint device (`dev_iommu_priv`).
    type Endpoint: Send + Sync;
    /// Data of a paging domain.
    type Domain: DomainOps<Endpoint = Self::Endpoint>;

    /// Whether the IOMMU serving `dev` has capability `cap`.
    fn capable(_dev: &Device, _cap: Cap) -> bool {
        false
    }

    /// `dev` names instance `inst` in its fwspec: builds its endpoint data. `ids` are the
    /// device's endpoint IDs (`fwspec->ids`, copied: never empty).
    fn probe_device(
        inst: &Arc<Self::Instance>,
        dev: &Device,
        ids: KVec<u32>,
    ) -> Result<Arc<Self::Endpoint>>;

    /// `dev` is going away; `ep` is the last reference the core held.
    fn release_device(_dev: &Device, _ep: Arc<Self::Endpoint>) {}

    /// Allocates a paging domain for `dev`.
    fn domain_alloc_paging(dev: &Device, ep: &Self::Endpoint) -> Result<Arc<Domain<Self::Domain>>>;

    /// Allocates an identity domain for `dev`.
    fn domain_alloc_identity(
        _dev: &Device,
        _ep: &Self::Endpoint,
    ) -> Result<Identity<Self::Domain>> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Attaches `dev` to the static identity domain.
    fn attach_identity(_dev: &Device, _ep: &Self::Endpoint) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Attaches `dev` to the static blocked domain (also the release domain).
    fn attach_blocked(_dev: &Device, _ep: &Self::Endpoint) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Adds the reserved regions of `dev` to `list`.
    fn get_resv_regions(_dev: &Device, _ep: &Self::Endpoint, _list: &mut ResvList<'_>) {}

    /// Device-tree `iommus`/`iommu-map` cell(s) `args` for `dev` (before `probe_device`).
    fn of_xlate(_dev: &Device, _args: &[u32]) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A C `iommu_ops` table (static, built by [`declare_iommu_ops!`](crate::declare_iommu_ops)).
#[repr(transparent)]
pub(crate) struct OpsTable(Opaque<bindings::iommu_ops>);

// SAFETY: the table is written only by its const initializer; the core reads it.
unsafe impl Sync for OpsTable {}

impl OpsTable {
    /// The C table.
    pub(crate) const fn as_raw(&self) -> *const bindings::iommu_ops {
        self.0.get()
    }
}

/// A static domain (identity or blocked) of the module.
#[repr(transparent)]
pub(crate) struct StaticDomain(Opaque<bindings::iommu_domain>);

// SAFETY: the core writes a static domain only in `iommu_domain_init` (type/owner/ops, always the
// same values) under its group locks; this module never accesses its fields.
unsafe impl Sync for StaticDomain {}

/// `IOMMU_DOMAIN_IDENTITY`, for [`StaticDomain::new`].
pub(crate) const DOMAIN_IDENTITY: u32 = bindings::IOMMU_DOMAIN_IDENTITY;
/// `IOMMU_DOMAIN_BLOCKED`, for [`StaticDomain::new`].
pub(crate) const DOMAIN_BLOCKED: u32 = bindings::IOMMU_DOMAIN_BLOCKED;

impl StaticDomain {
    /// A static domain of type `ty` whose operations are `ops`.
    pub(crate) const fn new(ty: u32, ops: &'static DomainOpsTable) -> Self {
        let mut d: bindings::iommu_domain = pin_init::zeroed();
        d.type_ = ty;
        d.ops = ops.as_raw();
        Self(Opaque::new(d))
    }

    pub(crate) const fn as_raw(&'static self) -> *mut bindings::iommu_domain {
        self.0.get()
    }
}

/// Endpoint data of `dev`, as set by `probe_device`.
///
/// # Safety
///
/// `dev` must be valid and between a successful `probe_device` of `T` and its `release_device`.
unsafe fn endpoint<'a, T: IommuOps>(dev: *mut bindings::device) -> ArcBorrow<'a, T::Endpoint> {
    // SAFETY: per the function contract, the private data is the `Arc::into_raw` of
    // `probe_device_cb` and is not released before `release_device`.
    unsafe { ArcBorrow::from_raw(hb::viommu_iommu_priv_get(dev).cast::<T::Endpoint>()) }
}

/// Creates the C callbacks for `T`.
struct Adapter<T: IommuOps>(core::marker::PhantomData<T>);

impl<T: IommuOps> Adapter<T> {
    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn capable(dev: *mut bindings::device, cap: bindings::iommu_cap) -> bool {
        // SAFETY: the core passes a valid device.
        let d = unsafe { Device::from_raw(dev) };
        T::capable(d, Cap::from_raw(cap))
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn probe_device(dev: *mut bindings::device) -> *mut bindings::iommu_device {
        let r = (|| -> Result<*mut bindings::iommu_device> {
            // SAFETY: the core passes a valid device whose fwspec (if any) is stable.
            let fwspec = unsafe { hb::viommu_iommu_fwspec_get(dev) };
            if fwspec.is_null() {
                return Err(ENODEV);
            }
            // SAFETY: `fwspec` is valid (see above).
            let fwnode = unsafe { (*fwspec).iommu_fwnode };
            let (inst, iommu) = super::registry::get::<T::Instance>(fwnode).ok_or(ENODEV)?;
            // SAFETY: the core passes a valid device.
            let d = unsafe { Device::from_raw(dev) };
            // The IDs are read here, in the callback, while the core keeps the fwspec stable
            // (it adds IDs only before `probe_device` and frees them after `release_device`).
            let ids = super::device::fwspec_ids(d)?;
            let ep = T::probe_device(&inst, d, ids)?;
            // SAFETY: `dev` is valid; the reference is taken back in `release_device`.
            unsafe { hb::viommu_iommu_priv_set(dev, Arc::into_raw(ep).cast_mut().cast()) };
            Ok(iommu)
        })();
        match r {
            Ok(p) => p,
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn release_device(dev: *mut bindings::device) {
        // SAFETY: `release_device` follows a successful `probe_device`.
        let raw = unsafe { hb::viommu_iommu_priv_get(dev) };
        if raw.is_null() {
            return;
        }
        // SAFETY: `raw` is the `Arc::into_raw` of `probe_device`; ownership comes back here. The
        // core frees `dev->iommu` (and with it the pointer) after this callback and calls none of
        // ours for `dev` in between; `dev_iommu_priv_set` may not be called here (it asserts
        // `iommu_probe_device_lock`, which the release path does not hold).
        let ep = unsafe { Arc::<T::Endpoint>::from_raw(raw.cast_const().cast()) };
        // SAFETY: the core passes a valid device.
        T::release_device(unsafe { Device::from_raw(dev) }, ep);
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn device_group(dev: *mut bindings::device) -> *mut bindings::iommu_group {
        // SAFETY: the core passes a valid device.
        unsafe {
            if hb::viommu_iommu_dev_is_pci(dev) {
                bindings::pci_device_group(dev)
            } else {
                bindings::generic_device_group(dev)
            }
        }
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn domain_alloc_paging(
        dev: *mut bindings::device,
    ) -> *mut bindings::iommu_domain {
        // SAFETY: called after `probe_device` with a valid device.
        let (d, ep) = unsafe { (Device::from_raw(dev), endpoint::<T>(dev)) };
        match T::domain_alloc_paging(d, &ep) {
            Ok(dom) => Domain::into_raw(dom),
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn domain_alloc_identity(
        dev: *mut bindings::device,
    ) -> *mut bindings::iommu_domain {
        // SAFETY: called after `probe_device` with a valid device.
        let (d, ep) = unsafe { (Device::from_raw(dev), endpoint::<T>(dev)) };
        match T::domain_alloc_identity(d, &ep) {
            Ok(Identity::Paging(dom)) => Domain::into_raw(dom),
            Ok(Identity::Static) => T::static_identity().as_raw(),
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn get_resv_regions(
        dev: *mut bindings::device,
        head: *mut bindings::list_head,
    ) {
        // SAFETY: called after `probe_device` with a valid device and the core's list.
        let (d, ep, mut list) = unsafe {
            (
                Device::from_raw(dev),
                endpoint::<T>(dev),
                ResvList::from_raw(dev, head),
            )
        };
        T::get_resv_regions(d, &ep, &mut list);
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn of_xlate(
        dev: *mut bindings::device,
        args: *const bindings::of_phandle_args,
    ) -> ffi::c_int {
        from_result(|| {
            // SAFETY: the core passes a valid device and phandle arguments.
            let (d, a) = unsafe { (Device::from_raw(dev), &*args) };
            let n = usize::try_from(a.args_count).unwrap_or(0).min(a.args.len());
            T::of_xlate(d, a.args.get(..n).unwrap_or(&[]))?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn attach_identity(
        _domain: *mut bindings::iommu_domain,
        dev: *mut bindings::device,
        _old: *mut bindings::iommu_domain,
    ) -> ffi::c_int {
        // SAFETY: attach callbacks run between `probe_device` and `release_device`.
        let (d, ep) = unsafe { (Device::from_raw(dev), endpoint::<T>(dev)) };
        from_result(|| T::attach_identity(d, &ep).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn attach_blocked(
        _domain: *mut bindings::iommu_domain,
        dev: *mut bindings::device,
        _old: *mut bindings::iommu_domain,
    ) -> ffi::c_int {
        // SAFETY: attach callbacks run between `probe_device` and `release_device`.
        let (d, ep) = unsafe { (Device::from_raw(dev), endpoint::<T>(dev)) };
        from_result(|| T::attach_blocked(d, &ep).map(|()| 0))
    }
}

/// The static tables generated by [`declare_iommu_ops!`](crate::declare_iommu_ops).
pub(crate) trait StaticDomains {
    /// The module's static identity domain.
    fn static_identity() -> &'static StaticDomain;
    /// The `iommu_ops` table.
    fn ops_table() -> &'static OpsTable;
}

/// The `iommu_domain_ops` of the static identity domain of `T`.
pub(crate) const fn identity_domain_ops<T: IommuOps>() -> DomainOpsTable {
    let mut o: bindings::iommu_domain_ops = pin_init::zeroed();
    if T::HAS_ATTACH_IDENTITY {
        o.attach_dev = Some(Adapter::<T>::attach_identity);
    }
    DomainOpsTable::new(o)
}

/// The `iommu_domain_ops` of the static blocked domain of `T`.
pub(crate) const fn blocked_domain_ops<T: IommuOps>() -> DomainOpsTable {
    let mut o: bindings::iommu_domain_ops = pin_init::zeroed();
    if T::HAS_ATTACH_BLOCKED {
        o.attach_dev = Some(Adapter::<T>::attach_blocked);
    }
    DomainOpsTable::new(o)
}

/// The `iommu_ops` of `T`. `owner` is the `THIS_MODULE` of the module implementing `T` (null when
/// built in; `iommu_device_register` refuses a null owner for a modular driver).
pub(crate) const fn create_iommu_ops<T: IommuOps>(
    paging: &'static DomainOpsTable,
    blocked: &'static StaticDomain,
) -> OpsTable {
    let mut o: bindings::iommu_ops = pin_init::zeroed();
    o.owner = <T::OwnerModule as ModuleMetadata>::THIS_MODULE.as_ptr();
    o.probe_device = Some(Adapter::<T>::probe_device);
    o.release_device = Some(Adapter::<T>::release_device);
    o.device_group = Some(Adapter::<T>::device_group);
    o.domain_alloc_paging = Some(Adapter::<T>::domain_alloc_paging);
    o.default_domain_ops = paging.as_raw();
    if T::HAS_CAPABLE {
        o.capable = Some(Adapter::<T>::capable);
    }
    if T::HAS_DOMAIN_ALLOC_IDENTITY {
        o.domain_alloc_identity = Some(Adapter::<T>::domain_alloc_identity);
    }
    if T::HAS_GET_RESV_REGIONS {
        o.get_resv_regions = Some(Adapter::<T>::get_resv_regions);
    }
    if T::HAS_OF_XLATE {
        o.of_xlate = Some(Adapter::<T>::of_xlate);
    }
    if T::HAS_ATTACH_BLOCKED {
        o.blocked_domain = blocked.as_raw();
        o.release_domain = blocked.as_raw();
    }
    OpsTable(Opaque::new(o))
}

/// Declares the C tables of an [`IommuOps`] implementation `$t`: its `iommu_ops` (with
/// `owner = THIS_MODULE`), the paging domain operations and the static identity and blocked
/// domains, reachable through [`StaticDomains`].
#[macro_export]
macro_rules! declare_iommu_ops {
    ($t:ty) => {
        const _: () = {
            use $crate::sys::iommu::macro_support as ms;
            use $crate::sys::iommu::{
                DomainOpsTable,
                OpsTable,
                StaticDomain, //
            };
            static PAGING: DomainOpsTable = ms::paging_domain_ops::<$t>();
            static IDENTITY_OPS: DomainOpsTable = ms::identity_domain_ops::<$t>();
            static BLOCKED_OPS: DomainOpsTable = ms::blocked_domain_ops::<$t>();
            static IDENTITY: StaticDomain = StaticDomain::new(ms::DOMAIN_IDENTITY, &IDENTITY_OPS);
            static BLOCKED: StaticDomain = StaticDomain::new(ms::DOMAIN_BLOCKED, &BLOCKED_OPS);
            static OPS: OpsTable = ms::create_iommu_ops::<$t>(&PAGING, &BLOCKED);
            impl ms::StaticDomains for $t {
                fn static_identity() -> &'static StaticDomain {
                    &IDENTITY
                }
                fn ops_table() -> &'static OpsTable {
                    &OPS
                }
            }
        };
    };
}
