// SPDX-License-Identifier: GPL-2.0

//! Virtqueues and the buffers handed to them.
//!
//! C header: [`include/linux/virtio.h`](srctree/include/linux/virtio.h)
//!
//! Ownership: a [`Buffer`] given to [`Virtqueue::add`] belongs to the queue (the device may write
//! it) until [`Virtqueue::get_buf`] or [`Virtqueue::detach_unused`] gives it back, or until the
//! queues are killed ([`VqGroup::kill`]: at unbind, inside the bus callback, after the reset),
//! which frees what is left and deletes the rings. A [`Virtqueue`] may outlive that (driver state
//! shared with the IOMMU core): every operation on a killed queue fails. Buffers are never freed
//! while the device is live.

use super::Device;
use crate::sys::bindings;
use core::{
    ffi::c_void,
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    alloc::Flags,
    bindings::scatterlist,
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Acquire,
            Atomic,
            Full, //
        },
        rcu,
        Arc,
        Mutex, //
    }, //
};

/// Buffers up to this many bytes (every request but PROBE) live inside the buffer's own
/// allocation: one kmalloc and one kfree per request, as in the C driver.
const INLINE_LEN: usize = 64;

/// The bytes of a [`Buffer`].
enum Data {
    /// The first `len` bytes of an array inside the buffer.
    Inline([u8; INLINE_LEN], usize),
    /// A separate allocation (larger buffers).
    Heap(KVec<u8>),
}

/// A buffer for a virtqueue: a kmalloc'd byte area whose first `readable` bytes the device
/// reads and whose rest it writes, plus driver context `C` the device never sees.
///
/// Like the C driver's requests, small areas share the allocation with the context. The device
/// never sees the context, and the driver touches neither while the device owns the buffer.
pub(crate) struct Buffer<C> {
    // INVARIANT: kmalloc memory (inside the `KBox` of the buffer, or a `KVec`), so it can be
    // described by a scatterlist.
    data: Data,
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
        let data = if len <= INLINE_LEN {
            Data::Inline([0; INLINE_LEN], len)
        } else {
            Data::Heap(KVec::from_elem(0u8, len, flags)?)
        };
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
        match &mut self.data {
            Data::Inline(a, len) => a.get_mut(..*len).unwrap_or_default(),
            Data::Heap(v) => v,
        }
    }

    /// The whole area, read-only.
    fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Inline(a, len) => a.get(..*len).unwrap_or_default(),
            Data::Heap(v) => v,
        }
    }

    /// The device-writable part (as written by the device once the buffer is back).
    pub(crate) fn writable(&self) -> &[u8] {
        self.bytes().get(self.readable..).unwrap_or(&[])
    }
}

/// Frees a token of a queue (a `KBox<Buffer<C>>` for that queue's `C`).
type TokenDrop = unsafe fn(*mut c_void);

/// Frees `token` as a `KBox<Buffer<C>>`.
///
/// # Safety
///
/// `token` must come from `KBox::<Buffer<C>>::into_raw` and no longer be used by anyone.
unsafe fn drop_token<C>(token: *mut c_void) {
    // SAFETY: Guaranteed by the caller.
    drop(unsafe { KBox::from_raw(token.cast::<Buffer<C>>()) });
}

/// The virtqueues of one device: killed (reset, buffers freed, `del_vqs`) at unbind or when
/// the last reference goes, whichever comes first.
///
/// Revocation as in `Revocable`, with no lock of its own on the queue operations: each runs in
/// an RCU read-side critical section and checks `alive`; `kill` clears `alive` and waits for a
/// grace period before it stops the device and deletes the queues. A queue operation is thus
/// one lock acquisition: its caller's (a `Virtqueue` is used through `&mut`).
///
/// # Invariants
///
/// `vqs` are the queues `find_vqs` created for `dev`; they exist while `alive` is true and, once
/// it is false, until every RCU read-side critical section that saw it true has ended.
#[pin_data(PinnedDrop)]
pub(crate) struct VqGroup {
    dev: ARef<Device>,
    vqs: KVec<NonNull<bindings::virtqueue>>,
    alive: Atomic<bool>,
    /// Per queue index: how to free its tokens (set when the queue is claimed; taken by `kill`).
    #[pin]
    droppers: Mutex<KVec<Option<TokenDrop>>>,
}

// SAFETY: The virtqueue pointers are only used while alive (see the invariant), each queue by
// the one owner of its `Virtqueue`, and the virtio functions used may be called from any thread.
unsafe impl Send for VqGroup {}
// SAFETY: See above.
unsafe impl Sync for VqGroup {}

impl VqGroup {
    /// Wraps the queues just found for `dev`; returns the group and one handle per queue.
    ///
    /// # Safety
    ///
    /// `raw` must be every virtqueue `find_vqs` just created for `dev`, not used elsewhere.
    pub(super) unsafe fn adopt(
        dev: ARef<Device>,
        raw: &[*mut bindings::virtqueue],
    ) -> Result<(Arc<Self>, KVec<VqHandle>)> {
        let mut vqs = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
        let mut droppers = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
        for &vq in raw {
            vqs.push(NonNull::new(vq).ok_or(EINVAL)?, GFP_KERNEL)?;
            droppers.push(None, GFP_KERNEL)?;
        }
        let group = Arc::pin_init(
            try_pin_init!(Self {
                dev,
                vqs,
                alive: Atomic::new(true),
                droppers <- new_mutex!(droppers, "viommu_vqs"),
            }? Error),
            GFP_KERNEL,
        )?;
        let mut handles = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
        for index in 0..raw.len() {
            handles.push(
                VqHandle {
                    index,
                    group: group.clone(),
                },
                GFP_KERNEL,
            )?;
        }
        Ok((group, handles))
    }

    /// Stops the device and deletes its queues now, freeing every buffer still in them; later
    /// operations on the queues fail. Idempotent; process context (it may sleep).
    pub(super) fn kill(&self) {
        if !self.alive.xchg(false, Full) {
            return;
        }
        // Every queue operation that saw `alive` ends within this grace period; later ones see
        // it false.
        rcu::synchronize_rcu();
        let droppers = core::mem::take(&mut *self.droppers.lock());
        self.dev.stop();
        for (vq, dropper) in self.vqs.iter().zip(droppers.iter()) {
            let Some(dropper) = dropper else { continue };
            loop {
                // SAFETY: `vq` still exists (deleted below) and the device is stopped.
                let token = unsafe { bindings::virtqueue_detach_unused_buf(vq.as_ptr()) };
                if token.is_null() {
                    break;
                }
                // SAFETY: Tokens of this queue are `KBox<Buffer<C>>` matching its dropper, and
                // the device gave this one back.
                unsafe { dropper(token) };
            }
        }
        // SAFETY: The device is stopped and no queue operation can run (see above): the rings
        // are unused.
        unsafe { bindings::viommu_virtio_del_vqs(self.dev.raw()) };
    }
}

#[pinned_drop]
impl PinnedDrop for VqGroup {
    fn drop(self: Pin<&mut Self>) {
        self.kill();
    }
}

/// An unclaimed virtqueue, as found at probe; turn it into a typed [`Virtqueue`].
pub(crate) struct VqHandle {
    index: usize,
    group: Arc<VqGroup>,
}

/// A virtqueue whose buffers are `KBox<Buffer<C>>`.
///
/// # Invariants
///
/// `index` is a queue of `group`; every token in it is a `KBox<Buffer<C>>` turned into a raw
/// pointer by [`Virtqueue::add`].
pub(crate) struct Virtqueue<C: Send + 'static> {
    vq: NonNull<bindings::virtqueue>,
    group: Arc<VqGroup>,
    in_flight: usize,
    _buffers: PhantomData<KBox<Buffer<C>>>,
}

// SAFETY: The queue is only used through `&mut self` while alive; the buffers it owns are `Send`
// when `C` is.
unsafe impl<C: Send + 'static> Send for Virtqueue<C> {}

impl<C: Send + 'static> Virtqueue<C> {
    /// Claims `handle` for buffers of type `Buffer<C>`. `C: Send + 'static`: the group may free
    /// the buffers left in the queue from another thread, at unbind (`VqGroup::kill`).
    pub(crate) fn new(handle: VqHandle) -> Result<Self> {
        let group = handle.group;
        let vq = *group.vqs.get(handle.index).ok_or(EINVAL)?;
        {
            let mut droppers = group.droppers.lock();
            let slot = droppers.get_mut(handle.index).ok_or(ENODEV)?;
            *slot = Some(drop_token::<C> as TokenDrop);
        }
        Ok(Self {
            vq,
            group,
            in_flight: 0,
            _buffers: PhantomData,
        })
    }

    /// An RCU read-side critical section in which the queue exists, or `None` once killed.
    fn live(&self) -> Option<rcu::Guard> {
        let guard = rcu::read_lock();
        // Seen alive inside the section: the queue outlives `guard` (`VqGroup`'s invariant).
        self.group.alive.load(Acquire).then_some(guard)
    }

    /// Number of buffers the device currently owns.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether the queue was killed (device unbound) or the virtio core marked it broken
    /// (`virtio_break_device`, a transport error): no reply will come.
    pub(crate) fn is_dead(&self) -> bool {
        let Some(_live) = self.live() else {
            return true;
        };
        // SAFETY: `vq` exists (`_live`).
        unsafe { bindings::virtqueue_is_broken(self.vq.as_ptr()) }
    }

    /// Posts `buf`: its readable part as device-readable, the rest as device-writable. Does not
    /// notify the device (see [`Virtqueue::kick`]). On failure (`ENOSPC`: ring full; `ENODEV`:
    /// queue killed) the buffer is given back.
    ///
    /// Whatever the virtio core allocates here (an indirect descriptor table) is allocated with
    /// `GFP_ATOMIC` (callers hold their IRQ-safe queue lock, and this runs in an RCU read-side
    /// section); when that fails it falls back to direct descriptors.
    pub(crate) fn add(
        &mut self,
        mut buf: KBox<Buffer<C>>,
    ) -> core::result::Result<(), (Error, KBox<Buffer<C>>)> {
        let readable = buf.readable;
        let len = buf.bytes().len();
        let Some(writable) = len.checked_sub(readable) else {
            return Err((EINVAL, buf));
        };
        let (Ok(r_len), Ok(w_len)) = (u32::try_from(readable), u32::try_from(writable)) else {
            return Err((EINVAL, buf));
        };
        if len == 0 {
            return Err((EINVAL, buf));
        }
        // `KBox` is a plain pointer: moving it below (`into_raw`) leaves `base` valid.
        let base = buf.bytes_mut().as_mut_ptr();
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
        let ret = {
            if let Some(_live) = self.live() {
                // SAFETY: `vq` exists (`_live`); the scatterlists describe memory owned by
                // `token`, which the queue owns from now on (returned by `get_buf`/
                // `detach_unused`, freed by `kill`, or given back below).
                unsafe {
                    bindings::virtqueue_add_sgs(
                        self.vq.as_ptr(),
                        sgs.as_mut_ptr(),
                        outs,
                        n as u32 - outs,
                        token.cast(),
                        kernel::bindings::GFP_ATOMIC,
                    )
                }
            } else {
                ENODEV.to_errno()
            }
        };
        if ret < 0 {
            // SAFETY: The queue refused the buffer; `token` came from `KBox::into_raw` above.
            return Err((Error::from_errno(ret), unsafe { KBox::from_raw(token) }));
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Notifies the device of posted buffers; returns false if the device is broken or gone.
    pub(crate) fn kick(&mut self) -> bool {
        let Some(_live) = self.live() else {
            return false;
        };
        // SAFETY: `vq` exists (`_live`).
        unsafe { bindings::virtqueue_kick(self.vq.as_ptr()) }
    }

    /// Stops used-buffer notifications (callbacks) for this queue; a hint, not a guarantee.
    pub(crate) fn disable_cb(&mut self) {
        if let Some(_live) = self.live() {
            // SAFETY: `vq` exists (`_live`).
            unsafe { bindings::virtqueue_disable_cb(self.vq.as_ptr()) };
        }
    }

    /// Re-enables callbacks; returns false if used buffers are already pending (drain them).
    pub(crate) fn enable_cb(&mut self) -> bool {
        let Some(_live) = self.live() else {
            return true;
        };
        // SAFETY: `vq` exists (`_live`).
        unsafe { bindings::virtqueue_enable_cb(self.vq.as_ptr()) }
    }

    /// Takes back the next buffer the device is done with, and the number of bytes it wrote.
    pub(crate) fn get_buf(&mut self) -> Option<(KBox<Buffer<C>>, u32)> {
        let mut len = 0u32;
        let token = {
            let _live = self.live()?;
            // SAFETY: `vq` exists (`_live`).
            unsafe { bindings::virtqueue_get_buf(self.vq.as_ptr(), &mut len) }
        };
        let token = NonNull::new(token)?;
        self.in_flight -= 1;
        // SAFETY: By the type invariant every token is a `KBox<Buffer<C>>` from `add`, and the
        // device has given it back.
        Some((unsafe { KBox::from_raw(token.as_ptr().cast()) }, len))
    }

    /// Takes back a buffer the device never used; `None` when empty, killed, or while the
    /// device is live (it could still write the buffer).
    pub(crate) fn detach_unused(&mut self) -> Option<KBox<Buffer<C>>> {
        let token = {
            let _live = self.live()?;
            if self.group.dev.is_live() {
                return None;
            }
            // SAFETY: `vq` exists (`_live`) and the device is stopped: it no longer owns the
            // buffers.
            unsafe { bindings::virtqueue_detach_unused_buf(self.vq.as_ptr()) }
        };
        let token = NonNull::new(token)?;
        self.in_flight -= 1;
        // SAFETY: As in `get_buf`.
        Some(unsafe { KBox::from_raw(token.as_ptr().cast()) })
    }
}

impl<C: Send + 'static> Drop for Virtqueue<C> {
    fn drop(&mut self) {
        // Buffers left with a live device are freed by `VqGroup::kill` after the reset.
        while self.detach_unused().is_some() {}
    }
}
