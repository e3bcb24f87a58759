// SPDX-License-Identifier: GPL-2.0

//! The event queue: kept full of fault-record buffers; each record the device returns is
//! decoded (exact length, reserved bits checked), the buffer re-posted, and the fault handed to
//! [`super::Viommu::report_fault`].

use crate::{
    sys::{
        sync::printk_ratelimit,
        virtio::{
            self,
            Buffer,
            Virtqueue,
            VqHandle, //
        }, //
    },
    uapi::{
        fault::{
            self,
            Fault,
            FaultError, //
        },
        wire::FaultRecord, //
    }, //
};
use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        SpinLockIrq, //
    }, //
};

/// Size of one fault record.
const RECORD_LEN: usize = core::mem::size_of::<FaultRecord>();

/// The event queue of a device.
#[pin_data]
pub(crate) struct EventQueue {
    #[pin]
    vq: SpinLockIrq<Virtqueue<()>>,
    vdev: ARef<virtio::Device>,
    /// A malformed record was already logged.
    warned: AtomicBool,
}

impl EventQueue {
    /// Fills `vq` with record buffers (before the device is live) and wraps it.
    pub(crate) fn new(vdev: ARef<virtio::Device>, vq: VqHandle) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let mut vq = Virtqueue::new(vq)?;
            let mut posted = 0usize;
            loop {
                let buf = Buffer::new((), 0, RECORD_LEN, GFP_KERNEL)?;
                match vq.add(buf) {
                    Ok(()) => posted += 1,
                    Err((e, _)) if e == ENOSPC && posted > 0 => break,
                    Err((e, _)) => return Err(e),
                }
            }
            Ok(try_pin_init!(Self {
                vq <- new_spinlock_irq!(vq, "viommu_eventq"),
                vdev,
                warned: AtomicBool::new(false),
            }))
        })
    }

    /// Handles returned records (hard IRQ context); `report` is called for each valid fault,
    /// outside the queue lock.
    pub(crate) fn process(&self, mut report: impl FnMut(&Fault)) {
        loop {
            let decoded = {
                let mut vq = self.vq.lock();
                let Some((buf, used)) = vq.get_buf() else {
                    return;
                };
                let used = usize::try_from(used).unwrap_or(usize::MAX);
                let decoded = buf
                    .writable()
                    .get(..used)
                    .map_or(Err(FaultError::BadLength(used)), fault::decode_fault);
                // Re-post the same buffer; on failure it is freed and the queue shrinks.
                if let Err((e, _)) = vq.add(buf) {
                    dev_warn!(self.vdev.as_ref(), "cannot re-post event buffer: {:?}\n", e);
                }
                vq.kick();
                decoded
            };
            match decoded {
                Ok(f) => report(&f),
                Err(e) => {
                    if !self.warned.swap(true, Ordering::Relaxed) || printk_ratelimit() {
                        dev_warn!(self.vdev.as_ref(), "ignoring fault record: {:?}\n", e);
                    }
                }
            }
        }
    }
}

/// Logs a fault (rate-limited), as the C driver does, before it is reported to the domain.
pub(crate) fn log_fault(vdev: &virtio::Device, f: &Fault) {
    if !printk_ratelimit() {
        return;
    }
    let access = match (f.read(), f.write()) {
        (true, true) => "RW",
        (true, false) => "R",
        (false, true) => "W",
        (false, false) => "-",
    };
    match f.address {
        Some(a) => dev_err!(
            vdev.as_ref(),
            "{:?} fault from EP {} at {:#x} [{}]\n",
            f.reason,
            f.endpoint,
            a,
            access
        ),
        None => dev_err!(
            vdev.as_ref(),
            "{:?} fault from EP {} [{}]\n",
            f.reason,
            f.endpoint,
            access
        ),
    }
}
