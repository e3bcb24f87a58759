// SPDX-License-Identifier: GPL-2.0

//! Decoding fault records from the event queue.
//!
//! A record is exactly 24 bytes; any other used length is refused (the C
//! driver accepts short records and reads stale bytes). Fields are decoded
//! with explicit little-endian reads, so the reserved-field checks are right
//! on big-endian CPUs too (the C driver masks a native-endian `u32`, which
//! only matches the reserved bytes on little-endian).

use super::wire::{self, FaultRecord};

/// Why a fault record was given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FaultReason {
    /// `FAULT_R_UNKNOWN`, or a reason value this code does not know.
    Unknown(u8),
    /// `FAULT_R_DOMAIN`: the endpoint is not attached to any domain.
    Domain,
    /// `FAULT_R_MAPPING`: no mapping, or insufficient permission.
    Mapping,
}

/// A decoded fault.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fault {
    /// Reason.
    pub reason: FaultReason,
    /// Endpoint ID.
    pub endpoint: u32,
    /// Raw `FAULT_F_*` flags.
    pub flags: u32,
    /// Faulting address, if the device gave one (`FAULT_F_ADDRESS`).
    pub address: Option<u64>,
}

impl Fault {
    /// The access was a read.
    pub const fn read(&self) -> bool {
        self.flags & wire::FAULT_F_READ != 0
    }
    /// The access was a write.
    pub const fn write(&self) -> bool {
        self.flags & wire::FAULT_F_WRITE != 0
    }
    /// The access was an instruction fetch.
    pub const fn exec(&self) -> bool {
        self.flags & wire::FAULT_F_EXEC != 0
    }
}

/// A record that must not be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FaultError {
    /// The record is not exactly 24 bytes long.
    BadLength(usize),
    /// A reserved field or reserved flag bit is non-zero: the record uses an
    /// extension this driver does not know; ignore it (rate-limited warning).
    Reserved,
}

/// Decodes a fault record from the used part of an event buffer.
pub fn decode_fault(buf: &[u8]) -> Result<Fault, FaultError> {
    let rec = FaultRecord::from_bytes(buf).ok_or(FaultError::BadLength(buf.len()))?;
    let flags = rec.flags.get();
    if rec.reserved != [0; 3] || rec.reserved1 != [0; 4] || flags & !wire::FAULT_F_KNOWN != 0 {
        return Err(FaultError::Reserved);
    }
    let reason = match rec.reason {
        wire::FAULT_R_DOMAIN => FaultReason::Domain,
        wire::FAULT_R_MAPPING => FaultReason::Mapping,
        other => FaultReason::Unknown(other),
    };
    let address = if flags & wire::FAULT_F_ADDRESS != 0 {
        Some(rec.address.get())
    } else {
        None
    };
    Ok(Fault {
        reason,
        endpoint: rec.endpoint.get(),
        flags,
        address,
    })
}
