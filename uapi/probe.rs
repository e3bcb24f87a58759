// SPDX-License-Identifier: GPL-2.0

//! Bounds-checked parsing of the PROBE properties area.
//!
//! The area is exactly `probe_size` bytes. Each property is a 4-byte header
//! `{le16 type, le16 length}` followed by `length` bytes of value. Parsing
//! stops at a `NONE` property or when fewer than 4 bytes remain; a property
//! whose value runs past the end stops it with an error. Lengths are computed
//! in `usize`, so `length >= 0xfffc` cannot wrap (the C driver's `u16`
//! arithmetic loops forever there). Properties with reserved type bits set
//! are skipped (spec: the driver must ignore them); unknown types are
//! skipped; unknown RESV_MEM subtypes count as RESERVED.

use super::wire::{self, read_le16, read_le64, read_u8};

/// Kind of a reserved region.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum ResvKind {
    /// Accesses are not translated and fault (`RESV_MEM_T_RESERVED`, and any
    /// unknown subtype).
    Reserved,
    /// MSI doorbell: accesses bypass translation (`RESV_MEM_T_MSI`).
    Msi,
}

/// A reserved region `[start, end]` (inclusive) of an endpoint.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ResvRegion {
    /// First address.
    pub start: u64,
    /// Last address (inclusive), `>= start`.
    pub end: u64,
    /// Kind.
    pub kind: ResvKind,
}

impl ResvRegion {
    /// Length in bytes, saturating at `u64::MAX` for the full 64-bit space.
    pub const fn len(&self) -> u64 {
        self.end.wrapping_sub(self.start).saturating_add(1)
    }

    /// Always false (a region holds at least one byte); for clippy's sake.
    pub const fn is_empty(&self) -> bool {
        false
    }
}

/// A malformed properties area.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProbeError {
    /// The property at `offset` claims a `length` that runs past the end.
    /// Parsing stops.
    Overrun {
        /// Offset of the property header in the area.
        offset: usize,
        /// Its length field.
        length: u16,
    },
    /// A RESV_MEM property at `offset` is shorter than its 20-byte value.
    ResvMemTooShort {
        /// Offset of the property header.
        offset: usize,
        /// Its length field.
        length: u16,
    },
    /// A RESV_MEM property at `offset` has `start > end`.
    StartAfterEnd {
        /// Offset of the property header.
        offset: usize,
        /// Start address.
        start: u64,
        /// End address.
        end: u64,
    },
}

/// Iterator over the reserved regions of a properties area.
///
/// Yields `Ok(region)` for each valid RESV_MEM property and `Err` for each
/// malformed one. After [`ProbeError::Overrun`] it yields nothing more; after
/// the other errors it continues with the next property (the driver decides
/// whether one bad property fails the endpoint; failing is recommended).
#[derive(Clone, Debug)]
pub struct ProbeIter<'a> {
    props: &'a [u8],
    pos: usize,
    done: bool,
}

/// Parses `props`, the first `probe_size` bytes of the PROBE reply.
pub fn parse_properties(props: &[u8]) -> ProbeIter<'_> {
    ProbeIter {
        props,
        pos: 0,
        done: false,
    }
}

const HDR: usize = 4;

impl Iterator for ProbeIter<'_> {
    type Item = Result<ResvRegion, ProbeError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let offset = self.pos;
            let (Some(raw_type), Some(length)) = (
                read_le16(self.props, offset),
                offset.checked_add(2).and_then(|o| read_le16(self.props, o)),
            ) else {
                // Fewer than 4 bytes left: end of the area.
                self.done = true;
                return None;
            };
            if raw_type == wire::PROBE_T_NONE {
                self.done = true;
                return None;
            }
            let value_start = offset.checked_add(HDR);
            let value_end = value_start.and_then(|s| s.checked_add(usize::from(length)));
            let value = match (value_start, value_end) {
                (Some(s), Some(e)) => self.props.get(s..e),
                _ => None,
            };
            let (Some(value), Some(next)) = (value, value_end) else {
                self.done = true;
                return Some(Err(ProbeError::Overrun { offset, length }));
            };
            self.pos = next;
            if raw_type & wire::PROBE_T_RESERVED_MASK != 0 {
                continue;
            }
            if raw_type != wire::PROBE_T_RESV_MEM {
                continue;
            }
            return Some(parse_resv_mem(offset, length, value));
        }
        None
    }
}

impl core::iter::FusedIterator for ProbeIter<'_> {}

fn parse_resv_mem(offset: usize, length: u16, value: &[u8]) -> Result<ResvRegion, ProbeError> {
    let too_short = ProbeError::ResvMemTooShort { offset, length };
    if usize::from(length) < wire::RESV_MEM_VALUE_LEN {
        return Err(too_short);
    }
    // Value layout: u8 subtype, u8 reserved[3], le64 start, le64 end.
    let (Some(subtype), Some(start), Some(end)) =
        (read_u8(value, 0), read_le64(value, 4), read_le64(value, 12))
    else {
        return Err(too_short);
    };
    if start > end {
        return Err(ProbeError::StartAfterEnd { offset, start, end });
    }
    let kind = if subtype == wire::RESV_MEM_T_MSI {
        ResvKind::Msi
    } else {
        ResvKind::Reserved
    };
    Ok(ResvRegion { start, end, kind })
}
