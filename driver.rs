// SPDX-License-Identifier: GPL-2.0

//! The virtio-iommu driver: safe Rust over `sys`, protocol logic from `uapi`.

mod domain;
mod endpoint;
mod event;
mod ops;
mod requestq;

use crate::{
    sys::{
        iommu::Gfp,
        virtio::{
            self,
            VqHandle, //
        }, //
    },
    uapi::{
        config::{
            self,
            ConfigError,
            DeviceConfig, //
        },
        fault::Fault,
        request,
        wire::{
            self,
            CFG_SIZE, //
        }, //
    }, //
};
use core::{
    fmt,
    pin::Pin, //
};
use kernel::{
    debugfs,
    device::{
        Core,
        Device, //
    },
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    str::CString,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    }, //
};

use event::EventQueue;
use requestq::{
    Batch,
    Request,
    RequestQueue, //
};

/// Index of the request queue.
const REQUESTQ: u32 = 0;
/// Index of the event queue.
const EVENTQ: u32 = 1;

/// Device feature bits the driver offers (asking the core about any other is a BUG()).
const FEATURES: [u32; 6] = [
    wire::F_INPUT_RANGE,
    wire::F_DOMAIN_RANGE,
    wire::F_MAP_UNMAP,
    wire::F_PROBE,
    wire::F_MMIO,
    wire::F_BYPASS_CONFIG,
];

/// State of one virtio-iommu device, pinned and published before the device is live.
#[pin_data]
pub(crate) struct Viommu {
    /// The virtio device.
    pub(crate) vdev: ARef<virtio::Device>,
    /// Validated device parameters.
    pub(crate) config: DeviceConfig,
    /// The request queue.
    #[pin]
    pub(crate) requestq: RequestQueue,
    /// The event queue.
    #[pin]
    eventq: EventQueue,
    /// IOMMU-core side state (domain IDs, endpoints).
    #[pin]
    pub(crate) iommu: endpoint::IommuState,
}

/// Per-device driver data: the device state is shared (`Arc`) with the domains and endpoints
/// the IOMMU core holds, which may outlive a callback; the registration is dropped in `remove`.
#[pin_data]
pub(crate) struct ViommuData {
    viommu: Arc<Viommu>,
    #[pin]
    reg: Mutex<Option<Pin<KBox<ops::IommuRegistration>>>>,
    /// debugfs `virtio_iommu_rs-<device>/mappings`: every mapping of every attached domain.
    #[pin]
    mappings: debugfs::File<Arc<Viommu>>,
    /// debugfs `inject` (kernels with fault injection): makes chosen requests fail on the
    /// device (see [`crate::uapi::inject`]).
    #[cfg(CONFIG_FAULT_INJECTION)]
    #[pin]
    inject: debugfs::File<Arc<Viommu>>,
    _debugfs: debugfs::Dir,
}

/// Shows the `mappings` debugfs file (see [`domain::VDomain::write_mappings`]).
fn show_mappings(viommu: &Arc<Viommu>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let domains = viommu.iommu.paging_domains().map_err(|_| fmt::Error)?;
    domains.iter().try_for_each(|d| d.write_mappings(f))
}

/// Shows the armed failure injection (`off` or `<kind> <count>`).
#[cfg(CONFIG_FAULT_INJECTION)]
fn show_inject(viommu: &Arc<Viommu>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match viommu.requestq.injection() {
        crate::uapi::inject::Command {
            kind: Some(k),
            count,
        } => writeln!(f, "{} {}", k.name(), count),
        _ => writeln!(f, "off"),
    }
}

/// Arms failure injection from `off` or `<kind> <count>`.
#[cfg(CONFIG_FAULT_INJECTION)]
fn store_inject(viommu: &Arc<Viommu>, r: &mut kernel::uaccess::UserSliceReader) -> Result {
    let mut buf = [0u8; 32];
    let n = r.len().min(buf.len());
    let text = buf.get_mut(..n).ok_or(EINVAL)?;
    r.read_slice(text)?;
    let cmd = crate::uapi::inject::Command::parse(text).ok_or(EINVAL)?;
    dev_info!(
        viommu.dev(),
        "failure injection: {:?} x{}\n",
        cmd.kind,
        cmd.count
    );
    viommu.requestq.set_injection(cmd);
    Ok(())
}

impl Viommu {
    /// Negotiated features as a bit mask ([`FEATURES`] and `VERSION_1` only).
    fn features(vdev: &virtio::Device) -> u64 {
        let bits = FEATURES.iter().copied();
        Iterator::chain(bits, [wire::F_VERSION_1])
            .filter(|&b| vdev.has_feature(b))
            .fold(0, |m, b| m | wire::feature(b))
    }

    /// Reads and validates the configuration space.
    fn read_config(vdev: &virtio::Device) -> Result<DeviceConfig> {
        let mut raw = [0u8; CFG_SIZE];
        vdev.read_config(0, &mut raw);
        let features = Self::features(vdev);
        config::validate_bytes(&raw, features, PAGE_SIZE as u64).map_err(|e| {
            match e {
                ConfigError::NoVersion1 | ConfigError::NoMapUnmap => dev_err!(
                    vdev.as_ref(),
                    "device lacks VERSION_1 or MAP_UNMAP (features {:#x}): not supported\n",
                    features
                ),
                ConfigError::GranuleTooLarge { granule, page_size } => dev_err!(
                    vdev.as_ref(),
                    "granule {:#x} larger than system page size {:#x}\n",
                    granule,
                    page_size
                ),
                e => dev_err!(vdev.as_ref(), "invalid device configuration: {:?}\n", e),
            }
            Error::from_errno(-e.errno())
        })
    }

    /// Handles a fault reported by the device (hard IRQ context).
    fn report_fault(&self, fault: &Fault) {
        event::log_fault(&self.vdev, fault);
        ops::report_fault(self, fault);
    }
}

/// The request queue, as the IOMMU side uses it.
impl Viommu {
    /// The virtio device, for messages.
    pub(crate) fn dev(&self) -> &Device {
        self.vdev.as_ref()
    }

    /// Sends `req` and waits for its reply (process context).
    pub(super) fn send(&self, req: &request::Request) -> Result<Request> {
        self.requestq.send(self.requestq.request(*req, GFP_KERNEL)?)
    }

    /// Encodes `req` into a request buffer allocated with `gfp` (before taking a lock).
    pub(crate) fn prepare(&self, req: &request::Request, gfp: Gfp) -> Result<Request> {
        self.requestq.request(*req, gfp.flags())
    }

    /// Queues a prepared MAP/UNMAP of `batch` without waiting (atomic-safe); its status is
    /// reported by the next [`Self::sync`] of that batch.
    pub(crate) fn queue_prepared(&self, r: Request, batch: &Arc<Batch>) -> Result {
        self.requestq.queue(r, batch)
    }

    /// Queues a MAP/UNMAP without waiting (atomic-safe); see [`Self::queue_prepared`].
    pub(crate) fn queue(&self, req: &request::Request, batch: &Arc<Batch>) -> Result {
        self.queue_prepared(self.prepare(req, Gfp::Atomic)?, batch)
    }

    /// Kicks and waits for the requests of `batch`; the first failure among them.
    pub(crate) fn sync(&self, batch: &Batch) -> Result {
        self.requestq.sync(batch)
    }
}

impl virtio::Driver for Viommu {
    type Data = ViommuData;
    const ID_TABLE: &'static dyn kernel::device_id::IdTable<virtio::DeviceId, ()> =
        &crate::VIRTIO_ID_TABLE;
    const FEATURES: &'static [u32] = &FEATURES;
    const VQ_NAMES: &'static [&'static CStr] = &[c"request", c"event"];

    fn probe<'a>(
        vdev: &'a virtio::Device<Core<'_>>,
        vqs: KVec<VqHandle>,
    ) -> impl PinInit<ViommuData, Error> + 'a {
        pin_init::pin_init_scope(move || {
            let config = Self::read_config(vdev)?;
            let mut vqs = vqs.into_iter();
            let (Some(rq), Some(eq)) = (vqs.next(), vqs.next()) else {
                return Err(EINVAL);
            };
            let name = CString::try_from_fmt(fmt!("virtio_iommu_rs-{}", vdev.as_ref().name()))?;
            let vdev: ARef<virtio::Device> = vdev.into();
            let viommu = Arc::pin_init(
                try_pin_init!(Self {
                    requestq <- RequestQueue::new(vdev.clone(), rq, config.probe_size),
                    eventq <- EventQueue::new(vdev.clone(), eq),
                    iommu <- endpoint::IommuState::new(),
                    vdev,
                    config,
                }? Error),
                GFP_KERNEL,
            )?;
            let dir = debugfs::Dir::new(&name);
            Ok(try_pin_init!(ViommuData {
                mappings <- dir.read_callback_file(c"mappings", viommu.clone(), &show_mappings),
                #[cfg(CONFIG_FAULT_INJECTION)]
                inject <- dir.read_write_callback_file(
                    c"inject",
                    viommu.clone(),
                    &show_inject,
                    &store_inject,
                ),
                viommu,
                reg <- new_mutex!(None),
                _debugfs: dir,
            }? Error))
        })
    }

    fn start(vdev: &virtio::Device<Core<'_>>, data: Pin<&ViommuData>) -> Result {
        let this = &data.viommu;
        let c = &this.config;
        dev_info!(
            vdev.as_ref(),
            "features {:#x} page_size_mask {:#x} input [{:#x}, {:#x}] domains [{}, {}] \
             identity {:?} probe_size {}\n",
            Self::features(vdev),
            c.pgsize_bitmap,
            c.input_start,
            c.input_end,
            c.first_domain,
            c.last_domain,
            c.identity_domain,
            c.probe_size
        );
        // Endpoints are probed during registration: the queues must work already.
        let hwdev = crate::sys::iommu::parent(vdev.as_ref()).ok_or(ENODEV)?;
        let reg = ops::register(this, vdev.as_ref(), hwdev, vdev.as_ref().name())?;
        *data.reg.lock() = Some(reg);
        Ok(())
    }

    fn vq_callback(data: Pin<&ViommuData>, index: u32) {
        let this = &data.viommu;
        match index {
            REQUESTQ => this.requestq.complete(),
            EVENTQ => this.eventq.process(|f| this.report_fault(f)),
            _ => {}
        }
    }

    fn remove(vdev: &virtio::Device<Core<'_>>, data: Pin<&ViommuData>) {
        dev_info!(vdev.as_ref(), "removing\n");
        // Unregister (releases every endpoint) while the queues still work.
        drop(data.reg.lock().take());
    }

    fn config_changed(vdev: &virtio::Device, _data: Pin<&ViommuData>) {
        dev_warn!(vdev.as_ref(), "config changed (ignored)\n");
    }
}
