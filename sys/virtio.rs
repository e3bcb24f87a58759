// SPDX-License-Identifier: GPL-2.0

//! Virtio bus abstractions: driver registration ([`Adapter`], [`Driver`],
//! [`module_virtio_driver`]), the device ([`Device`]) and its virtqueues ([`vq`]).
//!
//! C headers: [`include/linux/virtio.h`](srctree/include/linux/virtio.h) and
//! [`include/linux/virtio_config.h`](srctree/include/linux/virtio_config.h)
//!
//! Ordering guaranteed by the adapter (the traps of the C API):
//! - the virtqueues are found before [`Driver::probe`] and their callbacks are routed to the
//!   driver data only once it is published (`vdev->priv`), which happens before
//!   `virtio_device_ready` and [`Driver::start`];
//! - on unbind, or when [`Driver::start`] fails, the device is reset and callbacks are
//!   synchronised inside the bus callback; buffers and rings are freed afterwards, when the data
//!   is dropped (see [`vq`]).

pub(crate) mod vq;

use crate::sys::bindings;
use core::{
    marker::PhantomData,
    mem::offset_of,
    pin::Pin,
    ptr::NonNull, //
};
use kernel::{
    device::{
        self,
        Core,
        CoreInternal, //
    },
    device_id::{
        IdTable,
        RawDeviceId, //
    },
    driver,
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    sync::{
        aref::AlwaysRefCounted,
        Arc, //
    },
    types::Opaque,
    ThisModule, //
};

use vq::VqGroup;
pub(crate) use vq::{
    Buffer,
    Virtqueue,
    VqHandle, //
};

/// `VIRTIO_DEV_ANY_ID`: matches any vendor.
const VIRTIO_DEV_ANY_ID: u32 = u32::MAX;

/// One entry of a virtio id table (`struct virtio_device_id`).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct DeviceId(bindings::virtio_device_id);

impl DeviceId {
    /// Matches devices of type `device` from any vendor.
    pub(crate) const fn new(device: u32) -> Self {
        Self(bindings::virtio_device_id {
            device,
            vendor: VIRTIO_DEV_ANY_ID,
        })
    }
}

// SAFETY: `DeviceId` is a `#[repr(transparent)]` wrapper of `struct virtio_device_id`, which has
// no driver data field (tables are built with `IdArray::new_without_index`).
unsafe impl RawDeviceId for DeviceId {
    type RawType = bindings::virtio_device_id;
}

/// A virtio driver.
pub(crate) trait Driver: Sized + 'static {
    /// Per-device driver data, pinned and published before the device is made ready.
    type Data: Send + Sync + 'static;
    /// The devices handled (see `module_device_table!` with `"virtio"`).
    const ID_TABLE: &'static dyn IdTable<DeviceId, ()>;
    /// Device feature bits the driver understands (negotiated by the virtio core).
    const FEATURES: &'static [u32];
    /// Names of the virtqueues to find, in index order.
    const VQ_NAMES: &'static [&'static CStr];

    /// Builds the driver data; `vqs` holds one handle per [`Driver::VQ_NAMES`] entry. The device
    /// is not live yet: buffers may be posted but no callback reaches the data.
    fn probe<'a>(
        vdev: &'a Device<Core<'_>>,
        vqs: KVec<VqHandle>,
    ) -> impl PinInit<Self::Data, Error> + 'a;

    /// Called once the data is published and the device is live (`DRIVER_OK`): requests may
    /// be sent. On error the device is reset and the data dropped.
    fn start(vdev: &Device<Core<'_>>, data: Pin<&Self::Data>) -> Result {
        let _ = (vdev, data);
        Ok(())
    }

    /// A used-buffer notification for virtqueue `index` (hard IRQ context).
    fn vq_callback(data: Pin<&Self::Data>, index: u32);

    /// The device is being unbound; it is reset right after this returns.
    fn remove(vdev: &Device<Core<'_>>, data: Pin<&Self::Data>) {
        let _ = (vdev, data);
    }

    /// The device configuration space changed.
    fn config_changed(vdev: &Device, data: Pin<&Self::Data>) {
        let _ = (vdev, data);
    }
}

/// What the adapter stores per bound device: the queues (killed at unbind) and the driver data
/// (which may hold queue handles beyond unbind).
#[pin_data]
pub(crate) struct Bound<D> {
    group: Arc<VqGroup>,
    #[pin]
    data: D,
}

impl<D> Bound<D> {
    fn data(self: Pin<&Self>) -> Pin<&D> {
        // SAFETY: `data` is structurally pinned (`#[pin]`).
        unsafe { self.map_unchecked(|b| &b.data) }
    }
}

/// Registration of a [`Driver`] with the virtio bus.
pub(crate) struct Adapter<T: Driver>(PhantomData<T>);

// SAFETY: `virtio_driver` is a `repr(C)` C type embedding `struct device_driver` at the given
// offset; the private data stored by the adapter is `T::Data`.
unsafe impl<T: Driver> driver::DriverLayout for Adapter<T> {
    type DriverType = bindings::virtio_driver;
    type DriverData<'bound> = Bound<T::Data>;
    const DEVICE_DRIVER_OFFSET: usize = offset_of!(bindings::virtio_driver, driver);
}

// SAFETY: `unregister` is only called after a successful `register` of the same `reg`.
unsafe impl<T: Driver> driver::RegistrationOps for Adapter<T> {
    unsafe fn register(
        reg: &Opaque<Self::DriverType>,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        let features = u32::try_from(T::FEATURES.len())?;
        // SAFETY: The fields of a not yet registered `virtio_driver` may be written; the tables
        // are `'static`.
        unsafe {
            let drv = reg.get();
            (*drv).driver.name = name.as_char_ptr();
            (*drv).id_table = T::ID_TABLE.as_ptr();
            (*drv).feature_table = T::FEATURES.as_ptr();
            (*drv).feature_table_size = features;
            (*drv).probe = Some(Self::probe_callback);
            (*drv).remove = Some(Self::remove_callback);
            (*drv).config_changed = Some(Self::config_changed_callback);
        }
        // SAFETY: `reg` is a valid, pinned `virtio_driver` that outlives the registration.
        to_result(unsafe { bindings::__register_virtio_driver(reg.get(), module.as_ptr()) })
    }

    unsafe fn unregister(reg: &Opaque<Self::DriverType>) {
        // SAFETY: `reg` was registered by `register`.
        unsafe { bindings::unregister_virtio_driver(reg.get()) };
    }
}

impl<T: Driver> Adapter<T> {
    extern "C" fn probe_callback(vdev: *mut bindings::virtio_device) -> c_int {
        // SAFETY: The virtio bus calls probe with a valid device, bound for the whole call.
        let dev = unsafe { &*vdev.cast::<Device<CoreInternal<'_>>>() };
        from_result(|| {
            let (group, vqs) = dev.find_vqs::<T>()?;
            dev.as_ref().set_drvdata(try_pin_init!(Bound {
                group,
                data <- T::probe(dev, vqs),
            }? Error))?;
            // SAFETY: `set_drvdata` just stored a `Pin<KBox<Bound<T::Data>>>`.
            let bound = unsafe { dev.as_ref().drvdata_borrow::<Bound<T::Data>>() };
            let ptr: *const Bound<T::Data> = &*bound;
            // SAFETY: `vdev` is valid; the data outlives its publication (cleared in `quiesce`
            // before the driver core drops the data).
            unsafe { bindings::viommu_virtio_set_priv(vdev, ptr.cast_mut().cast()) };
            // SAFETY: `vdev` is valid and its virtqueues are set up.
            unsafe { bindings::viommu_virtio_device_ready(vdev) };
            if let Err(e) = T::start(dev, bound.data()) {
                dev.quiesce(&bound.group);
                return Err(e);
            }
            Ok(0)
        })
    }

    extern "C" fn remove_callback(vdev: *mut bindings::virtio_device) {
        // SAFETY: The virtio bus calls remove with a valid device, bound for the whole call.
        let dev = unsafe { &*vdev.cast::<Device<CoreInternal<'_>>>() };
        // SAFETY: Remove only follows a successful probe, which stored a
        // `Pin<KBox<Bound<T::Data>>>`.
        let bound = unsafe { dev.as_ref().drvdata_borrow::<Bound<T::Data>>() };
        T::remove(dev, bound.data());
        dev.quiesce(&bound.group);
    }

    extern "C" fn config_changed_callback(vdev: *mut bindings::virtio_device) {
        // SAFETY: The virtio core passes a valid device.
        let dev = unsafe { &*vdev.cast::<Device>() };
        if let Some(data) = dev.published::<T>() {
            T::config_changed(dev, data);
        }
    }

    extern "C" fn vq_callback(vq: *mut bindings::virtqueue) {
        // SAFETY: The virtio core passes a valid virtqueue of a valid device.
        let (vdev, index) = unsafe { ((*vq).vdev, (*vq).index) };
        // SAFETY: `vdev` is valid while its virtqueues exist.
        let dev = unsafe { &*vdev.cast::<Device>() };
        if let Some(data) = dev.published::<T>() {
            T::vq_callback(data, index);
        }
    }
}

/// Declares a module with a single virtio driver (as `module_platform_driver!`; the expansion is
/// `kernel::module_driver!`'s), whose initialisation first sets up the layer's global state
/// ([`crate::sys::init`]), then registers the driver.
#[macro_export]
macro_rules! module_virtio_driver {
    (type: $type:ty, $($f:tt)*) => {
        #[::kernel::prelude::pin_data]
        struct DriverModule {
            #[pin]
            _driver: ::kernel::driver::Registration<$crate::sys::virtio::Adapter<$type>>,
        }

        impl ::kernel::InPlaceModule for DriverModule {
            fn init(
                module: &'static ::kernel::ThisModule,
            ) -> impl ::pin_init::PinInit<Self, ::kernel::error::Error> {
                $crate::sys::init();
                ::kernel::try_pin_init!(Self {
                    _driver <- ::kernel::driver::Registration::new(
                        <Self as ::kernel::ModuleMetadata>::NAME,
                        module,
                    ),
                })
            }
        }

        ::kernel::prelude::module! {
            type: DriverModule,
            $($f)*
        }
    };
}

/// A virtio device (`struct virtio_device`).
///
/// # Invariants
///
/// The wrapped `virtio_device` is valid (its embedded `struct device` holds a reference).
#[repr(transparent)]
pub(crate) struct Device<Ctx: device::DeviceContext = device::Normal>(
    Opaque<bindings::virtio_device>,
    PhantomData<Ctx>,
);

kernel::impl_device_context_deref!(unsafe { Device });
kernel::impl_device_context_into_aref!(Device);

// SAFETY: Instances of `Device` are always reference counted through their `struct device`.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: A shared reference guarantees a non-zero refcount.
        unsafe { kernel::bindings::get_device(self.raw_dev()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference; `obj` is a valid device.
        unsafe { kernel::bindings::put_device(bindings::viommu_virtio_to_dev(obj.as_ptr().cast())) }
    }
}

impl<Ctx: device::DeviceContext> AsRef<device::Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &device::Device<Ctx> {
        // SAFETY: By the type invariant `raw_dev()` is a valid `struct device` that lives as
        // long as `self`.
        unsafe { device::Device::from_raw(self.raw_dev()) }
    }
}

// SAFETY: The virtio core functions used below may be called from any thread.
unsafe impl Send for Device {}
// SAFETY: See above; `&Device` only exposes thread-safe operations.
unsafe impl Sync for Device {}

impl<Ctx: device::DeviceContext> Device<Ctx> {
    fn raw(&self) -> *mut bindings::virtio_device {
        self.0.get()
    }

    fn raw_dev(&self) -> *mut kernel::bindings::device {
        // SAFETY: By the type invariant `raw()` is valid.
        unsafe { bindings::viommu_virtio_to_dev(self.raw()) }
    }

    /// Whether feature bit `bit` was negotiated.
    pub(crate) fn has_feature(&self, bit: u32) -> bool {
        // SAFETY: By the type invariant `raw()` is valid.
        unsafe { bindings::viommu_virtio_has_feature(self.raw(), bit) }
    }

    /// Reads `buf.len()` bytes of the configuration space at `offset` (generation-checked).
    /// May sleep.
    pub(crate) fn read_config(&self, offset: u32, buf: &mut [u8]) {
        // SAFETY: `raw()` is valid; `buf` is valid for `buf.len()` bytes of writes.
        unsafe {
            bindings::viommu_virtio_cread_bytes(
                self.raw(),
                offset,
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        }
    }

    /// Marks the device broken: its virtqueues stop returning buffers and the core stops
    /// calling back. Used when the device stops answering. Callable in atomic context.
    pub(crate) fn break_device(&self) {
        // SAFETY: By the type invariant `raw()` is valid.
        unsafe { bindings::virtio_break_device(self.raw()) };
    }

    /// Whether the device is live (`DRIVER_OK` set): it may use posted buffers.
    pub(crate) fn is_live(&self) -> bool {
        // SAFETY: By the type invariant `raw()` is valid.
        let status = unsafe { bindings::viommu_virtio_get_status(self.raw()) };
        u32::from(status) & bindings::VIRTIO_CONFIG_S_DRIVER_OK != 0
    }

    /// Resets the device unless it is idle (status at most `ACKNOWLEDGE`) and acknowledges it
    /// again; afterwards it no longer touches any buffer or ring, and its queues can be found
    /// again by the next probe.
    fn stop(&self) {
        // SAFETY: By the type invariant `raw()` is valid.
        let status = u32::from(unsafe { bindings::viommu_virtio_get_status(self.raw()) });
        if status & !bindings::VIRTIO_CONFIG_S_ACKNOWLEDGE != 0 {
            // SAFETY: As above.
            unsafe { bindings::virtio_reset_device(self.raw()) };
            // SAFETY: As above.
            unsafe {
                bindings::virtio_add_status(self.raw(), bindings::VIRTIO_CONFIG_S_ACKNOWLEDGE)
            };
        }
    }

    /// The driver data published by `Adapter<T>`, if any (callbacks before publication or after
    /// [`Device::quiesce`] see `None`).
    fn published<T: Driver>(&self) -> Option<Pin<&T::Data>> {
        // SAFETY: By the type invariant `raw()` is valid.
        let ptr = unsafe { bindings::viommu_virtio_get_priv(self.raw()) };
        let p = NonNull::new(ptr)?;
        // SAFETY: Only `Adapter<T>` sets `priv`, to its pinned `Bound<T::Data>`, and clears it
        // (and waits for running callbacks) before that data is dropped.
        let bound = unsafe { Pin::new_unchecked(p.cast::<Bound<T::Data>>().as_ref()) };
        Some(bound.data())
    }
}

impl Device<CoreInternal<'_>> {
    /// Finds the virtqueues named by `T::VQ_NAMES`, with callbacks into `Adapter<T>`.
    fn find_vqs<T: Driver>(&self) -> Result<(Arc<VqGroup>, KVec<VqHandle>)> {
        let n = T::VQ_NAMES.len();
        let mut infos = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut raw = KVec::with_capacity(n, GFP_KERNEL)?;
        for name in T::VQ_NAMES {
            infos.push(
                bindings::virtqueue_info {
                    name: name.as_char_ptr(),
                    callback: Some(Adapter::<T>::vq_callback),
                    ctx: false,
                },
                GFP_KERNEL,
            )?;
            raw.push(core::ptr::null_mut(), GFP_KERNEL)?;
        }
        // SAFETY: `raw()` is valid and the device is being probed; both arrays hold `n` entries.
        to_result(unsafe {
            bindings::viommu_virtio_find_vqs(
                self.raw(),
                u32::try_from(n)?,
                raw.as_mut_ptr(),
                infos.as_mut_ptr(),
            )
        })?;
        let dev: &Device = self;
        // SAFETY: `find_vqs` succeeded: every entry is a virtqueue of this device, owned by the
        // returned group until `del_vqs`.
        unsafe { VqGroup::adopt(dev.into(), &raw) }
    }

    /// Stops the device inside the bus callback: reset, unpublish the driver data, wait for
    /// running callbacks, then free the buffers left in the queues and delete them. Queue
    /// handles the driver data still holds fail from now on.
    fn quiesce(&self, group: &VqGroup) {
        // SAFETY: By the type invariant `raw()` is valid.
        unsafe { bindings::virtio_reset_device(self.raw()) };
        // SAFETY: As above.
        unsafe { bindings::viommu_virtio_set_priv(self.raw(), core::ptr::null_mut()) };
        // SAFETY: As above.
        unsafe { bindings::viommu_virtio_synchronize_cbs(self.raw()) };
        group.kill();
    }
}
