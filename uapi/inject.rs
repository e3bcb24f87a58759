// SPDX-License-Identifier: GPL-2.0

//! Request failure injection: makes chosen requests invalid on the wire, so that the real
//! device answers them with an error (no mock device). Used by the driver's debugfs `inject`
//! file, which exists only on kernels with `CONFIG_FAULT_INJECTION`.
//!
//! A command is `<kind> <count>`: the next `count` requests of `kind` (`attach`, `detach`,
//! `map`, `unmap`, `probe`) are poisoned; `off` (or a count of 0) disarms. A poisoned MAP or
//! UNMAP names a domain the driver never allocates ([`POISON_DOMAIN`]): the device answers
//! `S_NOENT`. A poisoned ATTACH, DETACH or PROBE names an endpoint that does not exist
//! ([`POISON_ENDPOINT`]): the device answers `S_NOENT` (or `S_INVAL`).

use super::wire::{
    ReqAttach, ReqDetach, ReqMap, ReqProbe, ReqUnmap, T_ATTACH, T_DETACH, T_MAP, T_PROBE, T_UNMAP,
};
use core::mem::offset_of;

/// Domain ID of a poisoned MAP/UNMAP: one below the top of the 32-bit space, which the driver
/// keeps for nothing (paging IDs are allocated from the bottom, the blocked domain takes the
/// last ID of the range).
pub const POISON_DOMAIN: u32 = u32::MAX - 1;
/// Endpoint ID of a poisoned ATTACH/DETACH/PROBE.
pub const POISON_ENDPOINT: u32 = u32::MAX;

/// The kind of a request, as named in commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// ATTACH.
    Attach = 1,
    /// DETACH.
    Detach = 2,
    /// MAP.
    Map = 3,
    /// UNMAP.
    Unmap = 4,
    /// PROBE.
    Probe = 5,
}

impl Kind {
    /// The kind of the encoded request `bytes` (its head's type), if any.
    pub fn of_encoded(bytes: &[u8]) -> Option<Self> {
        match *bytes.first()? {
            T_ATTACH => Some(Self::Attach),
            T_DETACH => Some(Self::Detach),
            T_MAP => Some(Self::Map),
            T_UNMAP => Some(Self::Unmap),
            T_PROBE => Some(Self::Probe),
            _ => None,
        }
    }

    /// The kind numbered `n` (as in [`Command::encode`]).
    pub fn from_u32(n: u32) -> Option<Self> {
        [
            Self::Attach,
            Self::Detach,
            Self::Map,
            Self::Unmap,
            Self::Probe,
        ]
        .into_iter()
        .find(|k| *k as u32 == n)
    }

    /// The command word of this kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::Attach => "attach",
            Self::Detach => "detach",
            Self::Map => "map",
            Self::Unmap => "unmap",
            Self::Probe => "probe",
        }
    }
}

/// A parsed command: poison the next `count` requests of `kind`; `None` disarms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// What to poison (`None`: nothing).
    pub kind: Option<Kind>,
    /// How many requests.
    pub count: u32,
}

/// Bits of [`Command::encode`] that hold the count.
const COUNT_BITS: u32 = 24;
/// The largest count a command can hold.
pub const MAX_COUNT: u32 = (1 << COUNT_BITS) - 1;

impl Command {
    /// Parses `off` or `<kind> <count>` (surrounding whitespace ignored).
    pub fn parse(text: &[u8]) -> Option<Self> {
        let text = core::str::from_utf8(text).ok()?.trim();
        if text == "off" {
            return Some(Self {
                kind: None,
                count: 0,
            });
        }
        let mut words = text.split_ascii_whitespace();
        let (name, count, rest) = (words.next()?, words.next()?, words.next());
        if rest.is_some() {
            return None;
        }
        let kind = [
            Kind::Attach,
            Kind::Detach,
            Kind::Map,
            Kind::Unmap,
            Kind::Probe,
        ]
        .into_iter()
        .find(|k| k.name() == name)?;
        let count: u32 = count.parse().ok()?;
        if count > MAX_COUNT {
            return None;
        }
        Some(Self {
            kind: (count > 0).then_some(kind),
            count,
        })
    }

    /// The command as one `u32` (kind in the top byte, count below), for an atomic cell;
    /// 0 when disarmed.
    pub fn encode(self) -> u32 {
        match self.kind {
            Some(k) if self.count > 0 => ((k as u32) << COUNT_BITS) | self.count.min(MAX_COUNT),
            _ => 0,
        }
    }

    /// The command encoded as `v` by [`Command::encode`].
    pub fn decode(v: u32) -> Self {
        let kind = Kind::from_u32(v >> COUNT_BITS);
        let count = v & MAX_COUNT;
        match kind {
            Some(k) if count > 0 => Self {
                kind: Some(k),
                count,
            },
            _ => Self {
                kind: None,
                count: 0,
            },
        }
    }

    /// If a request of `kind` is to be poisoned, the command left after doing so.
    pub fn take(self, kind: Kind) -> Option<Self> {
        let armed = self.kind?;
        (armed == kind && self.count > 0).then(|| Self {
            kind: (self.count > 1).then_some(armed),
            count: self.count.saturating_sub(1),
        })
    }
}

/// Makes the encoded request `bytes` (of `kind`) invalid on the wire, in place (see the module
/// documentation). Returns false if `bytes` is too short to hold it.
pub fn poison_encoded(bytes: &mut [u8], kind: Kind) -> bool {
    let (offset, value) = match kind {
        Kind::Attach => (offset_of!(ReqAttach, endpoint), POISON_ENDPOINT),
        Kind::Detach => (offset_of!(ReqDetach, endpoint), POISON_ENDPOINT),
        Kind::Map => (offset_of!(ReqMap, domain), POISON_DOMAIN),
        Kind::Unmap => (offset_of!(ReqUnmap, domain), POISON_DOMAIN),
        Kind::Probe => (offset_of!(ReqProbe, endpoint), POISON_ENDPOINT),
    };
    match bytes.get_mut(offset..offset.saturating_add(4)) {
        Some(field) => {
            field.copy_from_slice(&value.to_le_bytes());
            true
        }
        None => false,
    }
}
