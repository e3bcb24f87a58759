// SPDX-License-Identifier: GPL-2.0

//! Virtqueues and the buffers handed to them.
//!
//! Ownership: a [`Buffer`] given to [`Virtqueue::add`] belongs to the queue (the device may write
//! it) until [`Virtqueue::get_buf`] or [`Virtqueue::detach_unused`] gives it back. Buffers still
//! in a queue when it is dropped are freed only if the device is stopped; otherwise they are
//! leaked, never freed under the device. The rings themselves are freed (`del_vqs`) when the
//! last queue of the device is dropped, after a reset if the device is still live.

use super::Device;
use crate::sys::bindings;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    alloc::Flags,
    bindings::scatterlist,
    prelude::*,
    sync::{aref::ARef, Arc},
};

/// A buffer for a virtqueue: a kmalloc'd byte area whose first `readable` bytes the device
/// reads and whose rest it writes, plus driver context `C` the device never sees.
pub(crate) struct Buffer<C> {
    // INVARIANT: allocated with kmalloc (`KVec`), so it can be described by a scatterlist.
    data: KVec<u8>,
    readable: usize,
    /// Driver context travelling with the buffer.
    pub(crate) ctx: C,
}

impl<C> Buffer<C> {
    /// A zeroed buffer of `readable + writable` bytes.
    pub(crate) fn new(
        ctx: C,
        readable: usize,
        writable: usize,
        flags: Flags,
    ) -> Result<KBox<Self>> {
        let len = readable.checked_add(writable).ok_or(EINVAL)?;
        let data = KVec::from_elem(0u8, len, flags)?;
        Ok(KBox::new(
            Self {
                data,
                readable,
                ctx,
            },
            flags,
        )?)
    }

    /// The whole area (device-readable part, then device-writable part).
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The device-writable part (as written by the device once the buffer is back).
    pub(crate) fn writable(&self) -> &[u8] {
        self.data.get(self.readable..).unwrap_or(&[])
    }
}

/// The virtqueues of one device; deletes them (`del_vqs`) when the last handle goes.
pub(crate) struct VqGroup {
    dev: ARef<Device>,
}

impl VqGroup {
    /// Wraps the queues just found for `dev`.
    ///
    /// # Safety
    ///
    /// `raw` must be every virtqueue `find_vqs` just created for `dev`, not used elsewhere.
    pub(super) unsafe fn adopt(
        dev: ARef<Device>,
        raw: &[*mut bindings::virtqueue],
    ) -> Result<KVec<VqHandle>> {
        let group = Arc::new(Self { dev }, GFP_KERNEL)?;
        let mut out = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
        for &vq in raw {
            let vq = NonNull::new(vq).ok_or(EINVAL)?;
            out.push(
                VqHandle {
                    vq,
                    group: group.clone(),
                },
                GFP_KERNEL,
            )?;
        }
        Ok(out)
    }
}

impl Drop for VqGroup {
    fn drop(&mut self) {
        self.dev.stop();
        // SAFETY: No handle or queue is left (each holds a reference to `self`) and the device
        // is stopped, so nothing uses the rings any more.
        unsafe { bindings::viommu_virtio_del_vqs(self.dev.raw()) };
    }
}

/// An unclaimed virtqueue, as found at probe; turn it into a typed [`Virtqueue`].
pub(crate) struct VqHandle {
    vq: NonNull<bindings::virtqueue>,
    group: Arc<VqGroup>,
}

// SAFETY: The virtqueue functions may be called from any thread; exclusive use goes through
// `&mut Virtqueue`.
unsafe impl Send for VqHandle {}

/// A virtqueue whose buffers are `KBox<Buffer<C>>`.
///
/// # Invariants
///
/// `vq` is a live virtqueue of `group`; every token in it is a `KBox<Buffer<C>>` turned into a
/// raw pointer by [`Virtqueue::add`].
pub(crate) struct Virtqueue<C> {
    vq: NonNull<bindings::virtqueue>,
    group: Arc<VqGroup>,
    in_flight: usize,
    _buffers: PhantomData<KBox<Buffer<C>>>,
}

// SAFETY: See `VqHandle`; the buffers it owns are `Send` when `C` is.
unsafe impl<C: Send> Send for Virtqueue<C> {}

impl<C> Virtqueue<C> {
    /// Claims `handle` for buffers of type `Buffer<C>`.
    pub(crate) fn new(handle: VqHandle) -> Self {
        Self {
            vq: handle.vq,
            group: handle.group,
            in_flight: 0,
            _buffers: PhantomData,
        }
    }

    /// Number of buffers the device currently owns.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Posts `buf`: its readable part as device-readable, the rest as device-writable. Does not
    /// notify the device (see [`Virtqueue::kick`]). On failure (`ENOSPC`: ring full) the buffer
    /// is given back.
    pub(crate) fn add(
        &mut self,
        mut buf: KBox<Buffer<C>>,
        flags: Flags,
    ) -> core::result::Result<(), (Error, KBox<Buffer<C>>)> {
        let readable = buf.readable;
        let len = buf.data.len();
        let writable = len - readable;
        let (Ok(r_len), Ok(w_len)) = (u32::try_from(readable), u32::try_from(writable)) else {
            return Err((EINVAL, buf));
        };
        if len == 0 {
            return Err((EINVAL, buf));
        }
        let base = buf.data.as_mut_ptr();
        let mut out = scatterlist::default();
        let mut inp = scatterlist::default();
        let mut sgs: [*mut scatterlist; 2] = [core::ptr::null_mut(); 2];
        let mut n = 0;
        if readable > 0 {
            // SAFETY: `base` is kmalloc memory (type invariant of `Buffer`) of `len` bytes.
            unsafe { kernel::bindings::sg_init_one(&mut out, base.cast(), r_len) };
            sgs[n] = &mut out;
            n += 1;
        }
        if writable > 0 {
            // SAFETY: As above; `readable < len`, the writable part lies within the area.
            unsafe { kernel::bindings::sg_init_one(&mut inp, base.add(readable).cast(), w_len) };
            sgs[n] = &mut inp;
            n += 1;
        }
        let outs = u32::from(readable > 0);
        let token = KBox::into_raw(buf);
        // SAFETY: `vq` is live; the scatterlists describe memory owned by `token`, which the
        // queue owns from now on (returned by `get_buf`/`detach_unused`, or given back below).
        let ret = unsafe {
            bindings::virtqueue_add_sgs(
                self.vq.as_ptr(),
                sgs.as_mut_ptr(),
                outs,
                n as u32 - outs,
                token.cast(),
                crate::sys::gfp_raw(flags),
            )
        };
        if ret < 0 {
            // SAFETY: The queue refused the buffer; `token` came from `KBox::into_raw` above.
            return Err((Error::from_errno(ret), unsafe { KBox::from_raw(token) }));
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Notifies the device of posted buffers; returns false if the device is broken.
    pub(crate) fn kick(&mut self) -> bool {
        // SAFETY: By the type invariant `vq` is live.
        unsafe { bindings::virtqueue_kick(self.vq.as_ptr()) }
    }

    /// Takes back the next buffer the device is done with, and the number of bytes it wrote.
    pub(crate) fn get_buf(&mut self) -> Option<(KBox<Buffer<C>>, u32)> {
        let mut len = 0u32;
        // SAFETY: By the type invariant `vq` is live.
        let token = unsafe { bindings::virtqueue_get_buf(self.vq.as_ptr(), &mut len) };
        let token = NonNull::new(token)?;
        self.in_flight -= 1;
        // SAFETY: By the type invariant every token is a `KBox<Buffer<C>>` from `add`, and the
        // device has given it back.
        Some((unsafe { KBox::from_raw(token.as_ptr().cast()) }, len))
    }

    /// Takes back a buffer the device never used; `None` when empty or while the device is live
    /// (it could still write the buffer).
    pub(crate) fn detach_unused(&mut self) -> Option<KBox<Buffer<C>>> {
        if self.group.dev.is_live() {
            return None;
        }
        // SAFETY: `vq` is live and the device is stopped: it no longer owns the buffers.
        let token = unsafe { bindings::virtqueue_detach_unused_buf(self.vq.as_ptr()) };
        let token = NonNull::new(token)?;
        self.in_flight -= 1;
        // SAFETY: As in `get_buf`.
        Some(unsafe { KBox::from_raw(token.as_ptr().cast()) })
    }
}

impl<C> Drop for Virtqueue<C> {
    fn drop(&mut self) {
        while self.detach_unused().is_some() {}
        // Buffers still owned by a live device stay allocated (leaked) rather than freed under
        // it; `VqGroup::drop` resets the device before the rings go.
    }
}
