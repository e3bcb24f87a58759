// SPDX-License-Identifier: GPL-2.0

//! The request queue: synchronous requests ([`RequestQueue::send`], sleeping on a completion
//! signalled by the queue callback) and batched ones ([`RequestQueue::queue`] +
//! [`RequestQueue::sync`], atomic-safe with a bounded spin). Every reply is checked (status and
//! used length). A batched request belongs to a [`Batch`] (one per paging domain): its reply is
//! folded into that batch, so that `sync` of a batch waits for and reports exactly the requests
//! of its owner, never another domain's. A device that stops answering is broken once and every
//! later request fails fast.

use crate::{
    sys::{
        sync::{
            printk_ratelimit,
            Waiter, //
        },
        virtio::{
            self,
            Buffer,
            Virtqueue,
            VqHandle, //
        }, //
    },
    uapi::{
        inject::{
            self,
            Command, //
        },
        request::{
            self,
            BatchFold,
            ReqError, //
        }, //
    }, //
};
use kernel::{
    alloc::Flags,
    new_mutex,
    new_spinlock_irq,
    prelude::*,
    processor::cpu_relax,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        LockedBy,
        Mutex,
        SpinLockIrq, //
    },
    time::{
        Delta,
        Instant,
        Monotonic, //
    }, //
};

/// How long the device may take to answer before it is declared dead (generous for TCG).
const TIMEOUT_MS: u32 = 10_000;

/// Driver context of a request buffer.
struct Meta {
    /// `send` waits for this one (its reply goes to `State::reply`).
    waited: bool,
    /// Used length reported by the device.
    used: u32,
    /// The batch a queued request belongs to (its reply is folded there).
    owner: Option<Arc<Batch>>,
    /// An UNMAP: if the device refuses it, it is sent once more (until the device confirms it,
    /// it may still translate memory the caller frees next).
    unmap: Option<request::Request>,
    /// Already sent twice.
    retried: bool,
}

/// Progress of one owner's batched requests.
#[derive(Default)]
struct BatchState {
    /// Requests queued so far.
    queued: u64,
    /// Requests the device gave back so far.
    completed: u64,
    /// Replies not yet reported by `sync`.
    fold: BatchFold,
    /// An UNMAP of the batch was refused even when sent again: the device may still translate
    /// that range (see [`RequestQueue::take_stale`]).
    stale: bool,
}

/// The batched requests of one owner (a paging domain), accounted under the queue's lock.
pub(crate) struct Batch(LockedBy<BatchState, State>);

/// A request and its reply buffer (kmalloc'd, as virtqueues need).
pub(crate) struct Request(KBox<Buffer<Meta>>);

impl Request {
    /// Encodes `req`; `probe_size` sizes the reply of a PROBE.
    pub(crate) fn new(req: request::Request, probe_size: u32, gfp: Flags) -> Result<Self> {
        let layout = req.layout(probe_size);
        let meta = Meta {
            waited: false,
            used: 0,
            owner: None,
            unmap: matches!(req, request::Request::Unmap { .. }).then_some(req),
            retried: false,
        };
        let mut buf = Buffer::new(meta, layout.readable, layout.writable, gfp)?;
        req.encode(buf.bytes_mut(), probe_size).map_err(req_err)?;
        Ok(Self(buf))
    }

    /// Re-encodes an UNMAP buffer for another range (the buffer is allocated before the range
    /// is known: before the domain lock).
    pub(crate) fn set_unmap(&mut self, req: request::Request) -> Result {
        if !matches!(req, request::Request::Unmap { .. }) || self.0.ctx.unmap.is_none() {
            return Err(EINVAL);
        }
        req.encode(self.0.bytes_mut(), 0).map_err(req_err)?;
        self.0.ctx.unmap = Some(req);
        Ok(())
    }

    /// Outcome reported by the device: status, and a used length covering the whole reply.
    pub(crate) fn result(&self) -> core::result::Result<(), ReqError> {
        request::parse_reply(self.0.writable(), self.0.ctx.used)
    }

    /// The properties area of a PROBE reply.
    pub(crate) fn probe_properties(&self) -> &[u8] {
        request::probe_properties(self.0.writable())
    }
}

/// Converts a protocol error to a kernel error.
pub(crate) fn req_err(e: ReqError) -> Error {
    Error::from_errno(e.to_errno())
}

/// Queue state, under the IRQ-safe lock.
struct State {
    vq: Virtqueue<Meta>,
    /// Batched requests posted so far.
    queued: u64,
    /// Batched requests the device gave back so far (`queued - completed` are with it).
    completed: u64,
    /// The reply of the request `send` waits for, once back.
    reply: Option<KBox<Buffer<Meta>>>,
    /// The device stopped answering: fail everything.
    broken: bool,
}

/// The request queue of a device.
#[pin_data]
pub(crate) struct RequestQueue {
    #[pin]
    state: SpinLockIrq<State>,
    /// Serialises `send` callers (one waited request at a time).
    #[pin]
    send_lock: Mutex<()>,
    #[pin]
    done: Waiter,
    vdev: ARef<virtio::Device>,
    probe_size: u32,
    /// The armed failure injection ([`Command::encode`]; 0: none), set through debugfs.
    inject: Atomic<u32>,
}

impl RequestQueue {
    /// A request queue over `vq`; PROBE replies hold `probe_size` bytes of properties.
    pub(crate) fn new(
        vdev: ARef<virtio::Device>,
        vq: VqHandle,
        probe_size: u32,
    ) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let mut vq = Virtqueue::new(vq)?;
            // Batched requests are polled by `sync`; callbacks only while `send` waits.
            vq.disable_cb();
            let state = State {
                vq,
                queued: 0,
                completed: 0,
                reply: None,
                broken: false,
            };
            Ok(try_pin_init!(Self {
                state <- new_spinlock_irq!(state, "viommu_requestq"),
                send_lock <- new_mutex!((), "viommu_send"),
                done <- Waiter::new(),
                vdev,
                probe_size,
                inject: Atomic::new(0),
            }))
        })
    }

    /// Builds a request for this queue.
    pub(crate) fn request(&self, req: request::Request, gfp: Flags) -> Result<Request> {
        Request::new(req, self.probe_size, gfp)
    }

    /// Arms failure injection (see [`inject`]); `None` disarms.
    #[cfg(CONFIG_FAULT_INJECTION)]
    pub(crate) fn set_injection(&self, cmd: Command) {
        self.inject.store(cmd.encode(), Relaxed);
    }

    /// The armed failure injection.
    #[cfg(CONFIG_FAULT_INJECTION)]
    pub(crate) fn injection(&self) -> Command {
        Command::decode(self.inject.load(Relaxed))
    }

    /// Poisons `buf` on its way to the device if the armed injection takes a request of its
    /// kind (one count per poisoned request). Costs one atomic load when disarmed.
    fn inject(&self, buf: &mut Buffer<Meta>) {
        let mut cur = self.inject.load(Relaxed);
        if cur == 0 {
            return;
        }
        let Some(kind) = inject::Kind::of_encoded(buf.bytes_mut()) else {
            return;
        };
        while let Some(next) = Command::decode(cur).take(kind) {
            match self.inject.cmpxchg(cur, next.encode(), Relaxed) {
                Ok(_) => {
                    inject::poison_encoded(buf.bytes_mut(), kind);
                    return;
                }
                Err(v) => cur = v,
            }
        }
    }

    /// Sends one request and sleeps until its reply (process context). Returns the request
    /// with its reply if the device reports success.
    pub(crate) fn send(&self, req: Request) -> Result<Request> {
        let _serial = self.send_lock.lock();
        let mut buf = req.0;
        buf.ctx.waited = true;
        self.inject(&mut buf);
        {
            let mut st = self.state.lock();
            self.add_locked(&mut st, buf)?;
            if !st.vq.enable_cb() {
                self.drain(&mut st);
            }
            st.vq.kick();
        }
        let start = Instant::<Monotonic>::now();
        let buf = loop {
            let waited = start.elapsed().as_millis();
            let left = u32::try_from(i64::from(TIMEOUT_MS) - waited).unwrap_or(0);
            let woken = left > 0 && self.done.wait_timeout(left);
            let mut st = self.state.lock();
            if !woken {
                // The reply may have raced with the timeout.
                self.drain(&mut st);
            }
            if let Some(buf) = st.reply.take() {
                break buf;
            }
            if !woken {
                self.declare_dead(&mut st);
                return Err(ETIMEDOUT);
            }
            // A completion left over from an earlier timed-out wait: wait again.
        };
        let req = Request(buf);
        req.result().map_err(req_err)?;
        Ok(req)
    }

    /// A new, empty batch of this queue (one per paging domain).
    pub(crate) fn new_batch(&self) -> Result<Arc<Batch>> {
        let batch = Batch(LockedBy::new(&self.state, BatchState::default()));
        Ok(Arc::new(batch, GFP_KERNEL)?)
    }

    /// Queues a batched request (MAP/UNMAP) of `batch` without notifying the device; its result
    /// is reported by the next [`RequestQueue::sync`] of that batch. Allocates nothing; callable
    /// in atomic context.
    pub(crate) fn queue(&self, req: Request, batch: &Arc<Batch>) -> Result {
        let mut buf = req.0;
        buf.ctx.owner = Some(batch.clone());
        self.inject(&mut buf);
        let mut st = self.state.lock();
        self.add_locked(&mut st, buf)?;
        st.queued += 1;
        batch.0.access_mut(&mut *st).queued += 1;
        Ok(())
    }

    /// Notifies the device and waits for every request of `batch` queued before the call;
    /// returns the first failure among them (all are logged). Returns at once when the batch has
    /// nothing outstanding. Callable in atomic context: polls, and the IRQ-safe lock is held for
    /// one poll at a time, never for the wait. Stops at once on a broken or killed queue; bounded
    /// by [`TIMEOUT_MS`].
    pub(crate) fn sync(&self, batch: &Batch) -> Result {
        let mut target = None;
        let mut start = None;
        let fold = loop {
            let mut st = self.state.lock();
            let target = match target {
                Some(t) => {
                    self.drain(&mut st);
                    t
                }
                None => {
                    let b = batch.0.access_mut(&mut *st);
                    let t = b.queued;
                    if t == b.completed {
                        break core::mem::take(&mut b.fold);
                    }
                    if st.broken || st.vq.is_dead() {
                        return Err(ENODEV);
                    }
                    st.vq.kick();
                    // A device that answers during the notification (QEMU's, under TCG) needs
                    // no second acquisition of the lock.
                    self.drain(&mut st);
                    *target.insert(t)
                }
            };
            let b = batch.0.access_mut(&mut *st);
            if b.completed >= target {
                break core::mem::take(&mut b.fold);
            }
            self.check_waiting(&mut st, &mut start)?;
            drop(st);
            cpu_relax();
        };
        self.report(&fold)
    }

    /// Whether an UNMAP of `batch` failed even when sent again (or could not be sent again)
    /// since the last call: the device may still translate its range. Clears the flag.
    pub(crate) fn take_stale(&self, batch: &Batch) -> bool {
        let mut st = self.state.lock();
        core::mem::take(&mut batch.0.access_mut(&mut *st).stale)
    }

    /// One more poll found replies missing: fails on a dead queue or once [`TIMEOUT_MS`] has
    /// passed since the first empty poll (the clock is read only then).
    fn check_waiting(&self, st: &mut State, start: &mut Option<Instant<Monotonic>>) -> Result {
        if st.broken || st.vq.is_dead() {
            self.declare_dead(st);
            return Err(ENODEV);
        }
        let t0 = *start.get_or_insert_with(Instant::<Monotonic>::now);
        if t0.elapsed() > Delta::from_millis(TIMEOUT_MS.into()) {
            self.declare_dead(st);
            return Err(ETIMEDOUT);
        }
        Ok(())
    }

    /// Called from the queue callback: collects replies and wakes `send`.
    pub(crate) fn complete(&self) {
        let mut st = self.state.lock();
        self.drain(&mut st);
    }

    /// Posts `buf`, syncing once to make room when the ring is full.
    fn add_locked(&self, st: &mut State, buf: KBox<Buffer<Meta>>) -> Result {
        if st.broken {
            return Err(ENODEV);
        }
        let buf = match st.vq.add(buf) {
            Ok(()) => return Ok(()),
            Err((e, buf)) if e == ENOSPC => buf,
            Err((e, _)) => return Err(e),
        };
        self.flush_locked(st)?;
        st.vq.add(buf).map_err(|(e, _)| e)
    }

    /// Kicks and spins until no batched request is left with the device (the ring is full and
    /// the caller holds the lock; rare: more requests queued than the ring holds between syncs).
    fn flush_locked(&self, st: &mut State) -> Result {
        if st.broken || st.vq.is_dead() {
            return Err(ENODEV);
        }
        st.vq.kick();
        let mut start = None;
        loop {
            self.drain(st);
            if st.completed == st.queued {
                return Ok(());
            }
            self.check_waiting(st, &mut start)?;
            cpu_relax();
        }
    }

    /// Takes back every used buffer: folds batched replies, hands the waited one to `send`,
    /// sends a refused UNMAP once more.
    fn drain(&self, st: &mut State) {
        let mut resent = false;
        while let Some((mut buf, used)) = st.vq.get_buf() {
            buf.ctx.used = used;
            if buf.ctx.waited {
                st.vq.disable_cb();
                st.reply = Some(buf);
                self.done.complete();
                continue;
            }
            let req = Request(buf);
            let result = req.result();
            let mut buf = req.0;
            if let Err(e) = result {
                match self.resend(st, buf, e) {
                    Ok(()) => {
                        resent = true;
                        continue;
                    }
                    Err(b) => buf = b,
                }
            }
            st.completed += 1;
            let stale = result.is_err() && buf.ctx.retried;
            if let Some(owner) = buf.ctx.owner.take() {
                let b = owner.0.access_mut(st);
                b.completed += 1;
                b.fold.push(result);
                b.stale |= stale;
            }
        }
        if resent {
            st.vq.kick();
        }
    }

    /// Posts a refused UNMAP again, once; gives `buf` back when it is not resent.
    fn resend(
        &self,
        st: &mut State,
        mut buf: KBox<Buffer<Meta>>,
        err: ReqError,
    ) -> core::result::Result<(), KBox<Buffer<Meta>>> {
        let Some(req) = buf.ctx.unmap else {
            return Err(buf);
        };
        if buf.ctx.retried {
            dev_err!(
                self.vdev.as_ref(),
                "{} refused twice ({:?}): the device may still translate that range\n",
                format_args!("{req}"), // in hex (`Display`), not `Debug`
                err
            );
            return Err(buf);
        }
        buf.ctx.retried = true;
        if req.encode(buf.bytes_mut(), self.probe_size).is_err() {
            return Err(buf);
        }
        self.inject(&mut buf);
        if printk_ratelimit() {
            dev_warn!(
                self.vdev.as_ref(),
                "{} refused ({:?}): sending it again\n",
                format_args!("{req}"), // in hex (`Display`), not `Debug`
                err
            );
        }
        st.vq.add(buf).map_err(|(_, b)| b)
    }

    /// The device did not answer in time: break it (once). Its buffers stay owned by the
    /// queue until the device is reset at unbind.
    fn declare_dead(&self, st: &mut State) {
        if !st.broken {
            st.broken = true;
            self.vdev.break_device();
            dev_err!(
                self.vdev.as_ref(),
                "device not answering after {} ms ({} requests pending): disabled\n",
                TIMEOUT_MS,
                st.vq.in_flight()
            );
        }
    }

    /// Turns a batch fold into a result, logging failures.
    fn report(&self, fold: &BatchFold) -> Result {
        let Some((index, err)) = fold.first_error() else {
            return Ok(());
        };
        if printk_ratelimit() {
            dev_err!(
                self.vdev.as_ref(),
                "{} of {} batched requests failed; first (#{}): {:?}\n",
                fold.failures(),
                fold.count(),
                index,
                err
            );
        }
        Err(req_err(err))
    }
}
