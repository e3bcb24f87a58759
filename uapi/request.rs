// SPDX-License-Identifier: GPL-2.0

//! Building requests, reading their replies, and folding the replies of a
//! batch into one result.
//!
//! A request buffer is one byte array: the device-readable part followed by
//! the device-writable part (the tail, and for PROBE the properties area
//! before it). The driver copies it into a kmalloc buffer, hands the two parts
//! to the virtqueue as two scatterlist entries, and after completion passes
//! the writable part and the used length to [`parse_reply`].

use super::wire::{
    self, Le32, Le64, ReqAttach, ReqDetach, ReqHead, ReqMap, ReqProbe, ReqTail, ReqUnmap, TAIL_LEN,
};

/// Linux errno values (asm-generic), positive.
pub mod errno {
    /// No such file or directory.
    pub const ENOENT: i32 = 2;
    /// I/O error.
    pub const EIO: i32 = 5;
    /// Out of memory.
    pub const ENOMEM: i32 = 12;
    /// Bad address.
    pub const EFAULT: i32 = 14;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Math result not representable.
    pub const ERANGE: i32 = 34;
    /// Function not implemented.
    pub const ENOSYS: i32 = 38;
}

/// Status byte the driver pre-fills in the tail before submitting, so that a
/// tail the device never wrote reads as a failure, not as `S_OK`.
pub const STATUS_POISON: u8 = 0xff;

/// Request status as written by the device.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// `S_OK`.
    Ok,
    /// `S_IOERR`.
    IoErr,
    /// `S_UNSUPP`.
    Unsupp,
    /// `S_DEVERR`.
    DevErr,
    /// `S_INVAL`.
    Inval,
    /// `S_RANGE`.
    Range,
    /// `S_NOENT`.
    NoEnt,
    /// `S_FAULT`.
    Fault,
    /// `S_NOMEM`.
    NoMem,
    /// Any other value (including [`STATUS_POISON`]).
    Unknown(u8),
}

impl Status {
    /// Decodes a status byte.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            wire::S_OK => Self::Ok,
            wire::S_IOERR => Self::IoErr,
            wire::S_UNSUPP => Self::Unsupp,
            wire::S_DEVERR => Self::DevErr,
            wire::S_INVAL => Self::Inval,
            wire::S_RANGE => Self::Range,
            wire::S_NOENT => Self::NoEnt,
            wire::S_FAULT => Self::Fault,
            wire::S_NOMEM => Self::NoMem,
            other => Self::Unknown(other),
        }
    }

    /// Positive errno as the C driver maps it (`S_OK` maps to 0).
    pub const fn errno(self) -> i32 {
        match self {
            Self::Ok => 0,
            Self::Unsupp => errno::ENOSYS,
            Self::Inval => errno::EINVAL,
            Self::Range => errno::ERANGE,
            Self::NoEnt => errno::ENOENT,
            Self::Fault => errno::EFAULT,
            Self::NoMem => errno::ENOMEM,
            Self::IoErr | Self::DevErr | Self::Unknown(_) => errno::EIO,
        }
    }
}

/// Why a request failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReqError {
    /// The device completed the request with a non-OK status.
    Status(Status),
    /// The used length is neither 0 (not reported) nor the writable length:
    /// the device wrote less (or claims more) than the reply.
    UsedLen {
        /// Used length reported by the device.
        used: u32,
        /// Length of the device-writable part.
        expected: usize,
    },
    /// The buffer given is too small for the request or reply.
    BufferTooSmall,
}

impl ReqError {
    /// Positive errno (`UsedLen` and `BufferTooSmall` map to `EIO`/`EINVAL`).
    pub const fn errno(self) -> i32 {
        match self {
            Self::Status(s) => s.errno(),
            Self::UsedLen { .. } => errno::EIO,
            Self::BufferTooSmall => errno::EINVAL,
        }
    }

    /// Negative errno, the kernel's return convention.
    pub const fn to_errno(self) -> i32 {
        self.errno().wrapping_neg()
    }
}

/// A request, in native types.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Request {
    /// ATTACH `endpoint` to `domain`.
    Attach {
        /// Domain ID.
        domain: u32,
        /// Endpoint ID.
        endpoint: u32,
        /// Set `ATTACH_F_BYPASS` (identity domain, needs `F_BYPASS_CONFIG`).
        bypass: bool,
    },
    /// DETACH `endpoint` from `domain`.
    Detach {
        /// Domain ID.
        domain: u32,
        /// Endpoint ID.
        endpoint: u32,
    },
    /// MAP `[virt_start, virt_end]` to `phys_start`.
    Map {
        /// Domain ID.
        domain: u32,
        /// First IOVA.
        virt_start: u64,
        /// Last IOVA (inclusive).
        virt_end: u64,
        /// Physical address of `virt_start`.
        phys_start: u64,
        /// `MAP_F_*` flags.
        flags: u32,
    },
    /// UNMAP every mapping contained in `[virt_start, virt_end]`.
    Unmap {
        /// Domain ID.
        domain: u32,
        /// First IOVA.
        virt_start: u64,
        /// Last IOVA (inclusive).
        virt_end: u64,
    },
    /// PROBE `endpoint`.
    Probe {
        /// Endpoint ID.
        endpoint: u32,
    },
}

/// For the kernel log: addresses in hex, as the IOMMU core prints them.
impl core::fmt::Display for Request {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Attach {
                domain,
                endpoint,
                bypass,
            } => write!(
                f,
                "ATTACH endpoint {endpoint} to domain {domain}{}",
                if bypass { " (bypass)" } else { "" }
            ),
            Self::Detach { domain, endpoint } => {
                write!(f, "DETACH endpoint {endpoint} from domain {domain}")
            }
            Self::Map {
                domain,
                virt_start,
                virt_end,
                phys_start,
                flags,
            } => write!(
                f,
                "MAP domain {domain} [{virt_start:#x}-{virt_end:#x}] to {phys_start:#x} \
                 flags {flags:#x}"
            ),
            Self::Unmap {
                domain,
                virt_start,
                virt_end,
            } => write!(f, "UNMAP domain {domain} [{virt_start:#x}-{virt_end:#x}]"),
            Self::Probe { endpoint } => write!(f, "PROBE endpoint {endpoint}"),
        }
    }
}

/// Sizes of the two parts of an encoded request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Layout {
    /// Device-readable bytes at the start of the buffer.
    pub readable: usize,
    /// Device-writable bytes that follow (tail; for PROBE properties + tail).
    pub writable: usize,
}

impl Layout {
    /// Total buffer size (saturating; never overflows for valid probe sizes).
    pub const fn total(&self) -> usize {
        self.readable.saturating_add(self.writable)
    }
}

/// Largest device-readable part of any request (PROBE).
pub const MAX_READABLE: usize = 72;

impl Request {
    /// Layout of this request; `probe_size` matters for PROBE only.
    pub const fn layout(&self, probe_size: u32) -> Layout {
        match self {
            Self::Attach { .. } | Self::Detach { .. } => Layout {
                readable: 20,
                writable: TAIL_LEN,
            },
            Self::Map { .. } => Layout {
                readable: 36,
                writable: TAIL_LEN,
            },
            Self::Unmap { .. } => Layout {
                readable: 28,
                writable: TAIL_LEN,
            },
            Self::Probe { .. } => Layout {
                readable: MAX_READABLE,
                writable: (probe_size as usize).saturating_add(TAIL_LEN),
            },
        }
    }

    /// Returns the MAP request that (re)creates `m` in `domain`.
    pub const fn map_from(domain: u32, m: &super::mappings::Mapping) -> Self {
        Self::Map {
            domain,
            virt_start: m.iova,
            virt_end: m.last,
            phys_start: m.phys,
            flags: m.flags,
        }
    }

    /// Encodes the request into `buf` (at least `layout(probe_size).total()`
    /// bytes): readable part, then the writable part zeroed with the tail's
    /// status set to [`STATUS_POISON`]. Returns the layout.
    pub fn encode(&self, buf: &mut [u8], probe_size: u32) -> Result<Layout, ReqError> {
        let layout = self.layout(probe_size);
        let out = buf
            .get_mut(..layout.total())
            .ok_or(ReqError::BufferTooSmall)?;
        let tail = ReqTail {
            status: STATUS_POISON,
            reserved: [0; 3],
        };
        // Each struct is written in place; only what it does not cover (a PROBE's reply area)
        // is zeroed, and that area's tail poisoned.
        let written = match *self {
            Self::Attach {
                domain,
                endpoint,
                bypass,
            } => ReqAttach {
                head: ReqHead::new(wire::T_ATTACH),
                domain: Le32::new(domain),
                endpoint: Le32::new(endpoint),
                flags: Le32::new(if bypass { wire::ATTACH_F_BYPASS } else { 0 }),
                reserved: [0; 4],
                tail,
            }
            .write_to(out),
            Self::Detach { domain, endpoint } => ReqDetach {
                head: ReqHead::new(wire::T_DETACH),
                domain: Le32::new(domain),
                endpoint: Le32::new(endpoint),
                reserved: [0; 8],
                tail,
            }
            .write_to(out),
            Self::Map {
                domain,
                virt_start,
                virt_end,
                phys_start,
                flags,
            } => ReqMap {
                head: ReqHead::new(wire::T_MAP),
                domain: Le32::new(domain),
                virt_start: Le64::new(virt_start),
                virt_end: Le64::new(virt_end),
                phys_start: Le64::new(phys_start),
                flags: Le32::new(flags),
                tail,
            }
            .write_to(out),
            Self::Unmap {
                domain,
                virt_start,
                virt_end,
            } => ReqUnmap {
                head: ReqHead::new(wire::T_UNMAP),
                domain: Le32::new(domain),
                virt_start: Le64::new(virt_start),
                virt_end: Le64::new(virt_end),
                reserved: [0; 4],
                tail,
            }
            .write_to(out),
            Self::Probe { endpoint } => ReqProbe {
                head: ReqHead::new(wire::T_PROBE),
                endpoint: Le32::new(endpoint),
                reserved: [0; 64],
            }
            .write_to(out),
        }
        .ok_or(ReqError::BufferTooSmall)?;
        let rest = out.get_mut(written..).ok_or(ReqError::BufferTooSmall)?;
        if !rest.is_empty() {
            rest.fill(0);
            let status = rest.len().checked_sub(TAIL_LEN);
            *status
                .and_then(|i| rest.get_mut(i))
                .ok_or(ReqError::BufferTooSmall)? = STATUS_POISON;
        }
        Ok(layout)
    }
}

/// Checks the reply of one request.
///
/// `writable` is the whole device-writable part (tail last); `used_len` is the
/// length the device reported in the used ring. A used length of 0 means "not
/// reported" and the tail is trusted (it was poisoned by [`Request::encode`],
/// so an unwritten tail fails with `Status(Unknown(0xff))`). Any other used
/// length must equal the writable length: a shorter one means the device did
/// not write the whole reply (the C driver would read stale bytes).
pub fn parse_reply(writable: &[u8], used_len: u32) -> Result<(), ReqError> {
    let expected = writable.len();
    let tail_at = expected
        .checked_sub(TAIL_LEN)
        .ok_or(ReqError::BufferTooSmall)?;
    if used_len != 0 && usize::try_from(used_len).ok() != Some(expected) {
        return Err(ReqError::UsedLen {
            used: used_len,
            expected,
        });
    }
    let tail = writable
        .get(tail_at..)
        .and_then(ReqTail::from_bytes)
        .ok_or(ReqError::BufferTooSmall)?;
    match Status::from_u8(tail.status) {
        Status::Ok => Ok(()),
        s => Err(ReqError::Status(s)),
    }
}

/// Returns the properties area of a PROBE reply's writable part (everything
/// but the tail).
pub fn probe_properties(writable: &[u8]) -> &[u8] {
    let n = writable.len().saturating_sub(TAIL_LEN);
    writable.get(..n).unwrap_or(&[])
}

/// Folds the results of every request of a batch.
///
/// Every reply must be pushed; the batch succeeds only if all of them did.
/// Looking at the last request alone (or at none, as the C driver does for
/// MAP/UNMAP batched until `iotlb_sync`) hides failures.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BatchFold {
    first_error: Option<(usize, ReqError)>,
    failures: usize,
    count: usize,
}

impl BatchFold {
    /// An empty fold.
    pub const fn new() -> Self {
        Self {
            first_error: None,
            failures: 0,
            count: 0,
        }
    }

    /// Adds the result of the next request.
    pub fn push(&mut self, result: Result<(), ReqError>) {
        if let Err(e) = result {
            if self.first_error.is_none() {
                self.first_error = Some((self.count, e));
            }
            self.failures = self.failures.saturating_add(1);
        }
        self.count = self.count.saturating_add(1);
    }

    /// Adds the reply of the next request (see [`parse_reply`]).
    pub fn push_reply(&mut self, writable: &[u8], used_len: u32) {
        self.push(parse_reply(writable, used_len));
    }

    /// Index in the batch and error of the first failed request.
    pub const fn first_error(&self) -> Option<(usize, ReqError)> {
        self.first_error
    }

    /// Number of failed requests.
    pub const fn failures(&self) -> usize {
        self.failures
    }

    /// Number of requests pushed.
    pub const fn count(&self) -> usize {
        self.count
    }

    /// `Ok` if every request succeeded, else the first error.
    pub const fn result(&self) -> Result<(), ReqError> {
        match self.first_error {
            None => Ok(()),
            Some((_, e)) => Err(e),
        }
    }
}

/// Folds an iterator of per-request results.
pub fn fold_batch<I: IntoIterator<Item = Result<(), ReqError>>>(results: I) -> BatchFold {
    let mut f = BatchFold::new();
    for r in results {
        f.push(r);
    }
    f
}
