// SPDX-License-Identifier: GPL-2.0

//! Little-endian wire layout of the virtio-iommu device (virtio 1.3 §5.13).
//!
//! All structures are `#[repr(C)]` over byte-array newtypes, so they have
//! alignment 1 and no padding; their sizes are checked at compile time.
//! Encoding and decoding go through explicit little-endian byte reads and
//! writes, never through pointer casts, so they are correct on big-endian
//! hosts too and need no `unsafe`.

use core::mem::{offset_of, size_of};

/// Virtio device ID of the IOMMU device.
pub const VIRTIO_ID_IOMMU: u32 = 23;

/// Feature bit: `input_range` in the config space is valid.
pub const F_INPUT_RANGE: u32 = 0;
/// Feature bit: `domain_range` in the config space is valid.
pub const F_DOMAIN_RANGE: u32 = 1;
/// Feature bit: MAP and UNMAP requests are supported.
pub const F_MAP_UNMAP: u32 = 2;
/// Feature bit (legacy): endpoints not attached to a domain bypass the IOMMU.
pub const F_BYPASS: u32 = 3;
/// Feature bit: PROBE requests are supported; `probe_size` is valid.
pub const F_PROBE: u32 = 4;
/// Feature bit: the `MAP_F_MMIO` flag is supported.
pub const F_MMIO: u32 = 5;
/// Feature bit: the `bypass` config field and `ATTACH_F_BYPASS` are supported.
pub const F_BYPASS_CONFIG: u32 = 6;
/// Generic virtio feature bit `VIRTIO_F_VERSION_1`.
pub const F_VERSION_1: u32 = 32;

/// Returns the feature mask with only bit `bit` set (0 for `bit >= 64`).
pub const fn feature(bit: u32) -> u64 {
    if bit < 64 {
        1u64 << bit
    } else {
        0
    }
}

/// Returns whether feature `bit` is set in `features`.
pub const fn has_feature(features: u64, bit: u32) -> bool {
    features & feature(bit) != 0
}

/// Device-specific feature bits a driver should offer to negotiate.
pub const DRIVER_FEATURES: u64 = feature(F_INPUT_RANGE)
    | feature(F_DOMAIN_RANGE)
    | feature(F_MAP_UNMAP)
    | feature(F_PROBE)
    | feature(F_MMIO)
    | feature(F_BYPASS_CONFIG);

/// Request type ATTACH.
pub const T_ATTACH: u8 = 1;
/// Request type DETACH.
pub const T_DETACH: u8 = 2;
/// Request type MAP.
pub const T_MAP: u8 = 3;
/// Request type UNMAP.
pub const T_UNMAP: u8 = 4;
/// Request type PROBE.
pub const T_PROBE: u8 = 5;

/// Status: success.
pub const S_OK: u8 = 0;
/// Status: virtio communication error.
pub const S_IOERR: u8 = 1;
/// Status: unsupported request.
pub const S_UNSUPP: u8 = 2;
/// Status: internal device error.
pub const S_DEVERR: u8 = 3;
/// Status: invalid parameters.
pub const S_INVAL: u8 = 4;
/// Status: out-of-range parameters.
pub const S_RANGE: u8 = 5;
/// Status: entry not found.
pub const S_NOENT: u8 = 6;
/// Status: bad virtual address.
pub const S_FAULT: u8 = 7;
/// Status: out of memory.
pub const S_NOMEM: u8 = 8;

/// ATTACH flag: attach the endpoint to a bypass (identity) domain.
pub const ATTACH_F_BYPASS: u32 = 1 << 0;

/// MAP flag: device reads allowed.
pub const MAP_F_READ: u32 = 1 << 0;
/// MAP flag: device writes allowed.
pub const MAP_F_WRITE: u32 = 1 << 1;
/// MAP flag: the mapping targets MMIO (needs `F_MMIO`).
pub const MAP_F_MMIO: u32 = 1 << 2;
/// All MAP flags defined by the spec.
pub const MAP_F_MASK: u32 = MAP_F_READ | MAP_F_WRITE | MAP_F_MMIO;

/// Probe property type: end of the property list.
pub const PROBE_T_NONE: u16 = 0;
/// Probe property type: reserved memory region.
pub const PROBE_T_RESV_MEM: u16 = 1;
/// Bits of the probe property `type` field that hold the type.
pub const PROBE_T_MASK: u16 = 0x0fff;
/// Reserved bits of the probe property `type` field.
pub const PROBE_T_RESERVED_MASK: u16 = 0xf000;

/// RESV_MEM subtype: accesses are not translated and fault.
pub const RESV_MEM_T_RESERVED: u8 = 0;
/// RESV_MEM subtype: MSI doorbell region.
pub const RESV_MEM_T_MSI: u8 = 1;

/// Fault reason: unknown.
pub const FAULT_R_UNKNOWN: u8 = 0;
/// Fault reason: the endpoint is not attached to a domain.
pub const FAULT_R_DOMAIN: u8 = 1;
/// Fault reason: no mapping or insufficient permission.
pub const FAULT_R_MAPPING: u8 = 2;

/// Fault flag: the access was a read.
pub const FAULT_F_READ: u32 = 1 << 0;
/// Fault flag: the access was a write.
pub const FAULT_F_WRITE: u32 = 1 << 1;
/// Fault flag: the access was an instruction fetch. Not in the virtio spec
/// (1.3/1.4), but defined by Linux' uapi header; accepted, not required.
pub const FAULT_F_EXEC: u32 = 1 << 2;
/// Fault flag: the `address` field is valid.
pub const FAULT_F_ADDRESS: u32 = 1 << 8;
/// Fault flags this code understands; any other bit is reserved.
pub const FAULT_F_KNOWN: u32 = FAULT_F_READ | FAULT_F_WRITE | FAULT_F_EXEC | FAULT_F_ADDRESS;

/// Little-endian 16-bit wire integer.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Le16([u8; 2]);

/// Little-endian 32-bit wire integer.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Le32([u8; 4]);

/// Little-endian 64-bit wire integer.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Le64([u8; 8]);

macro_rules! le_impl {
    ($t:ident, $int:ty, $n:literal) => {
        impl $t {
            /// Encodes a native integer.
            pub const fn new(v: $int) -> Self {
                Self(v.to_le_bytes())
            }
            /// Decodes to a native integer.
            pub const fn get(self) -> $int {
                <$int>::from_le_bytes(self.0)
            }
            /// Wraps raw little-endian bytes.
            pub const fn from_bytes(b: [u8; $n]) -> Self {
                Self(b)
            }
            /// Returns the raw little-endian bytes.
            pub const fn to_bytes(self) -> [u8; $n] {
                self.0
            }
        }
    };
}
le_impl!(Le16, u16, 2);
le_impl!(Le32, u32, 4);
le_impl!(Le64, u64, 8);

/// Reads `N` bytes at `off`, or `None` if out of bounds.
pub fn read_array<const N: usize>(buf: &[u8], off: usize) -> Option<[u8; N]> {
    let end = off.checked_add(N)?;
    buf.get(off..end)?.try_into().ok()
}

/// Reads a byte at `off`.
pub fn read_u8(buf: &[u8], off: usize) -> Option<u8> {
    buf.get(off).copied()
}

/// Reads a little-endian `u16` at `off`.
pub fn read_le16(buf: &[u8], off: usize) -> Option<u16> {
    read_array(buf, off).map(u16::from_le_bytes)
}

/// Reads a little-endian `u32` at `off`.
pub fn read_le32(buf: &[u8], off: usize) -> Option<u32> {
    read_array(buf, off).map(u32::from_le_bytes)
}

/// Reads a little-endian `u64` at `off`.
pub fn read_le64(buf: &[u8], off: usize) -> Option<u64> {
    read_array(buf, off).map(u64::from_le_bytes)
}

/// Sequential bounds-checked writer; records whether every write fitted.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    ok: bool,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            ok: true,
        }
    }

    /// Writes `bytes` next. Sized at compile time, so the copy is a few stores rather than a
    /// call to `memcpy` per field.
    fn put<const N: usize>(&mut self, bytes: &[u8; N]) {
        let dst = self
            .pos
            .checked_add(N)
            .and_then(|end| self.buf.get_mut(self.pos..end).map(|d| (d, end)))
            .and_then(|(d, end)| <&mut [u8; N]>::try_from(d).ok().map(|d| (d, end)));
        match dst {
            Some((d, end)) => {
                *d = *bytes;
                self.pos = end;
            }
            None => self.ok = false,
        }
    }
}

/// A wire field: writes its little-endian bytes.
trait Field {
    fn put_into(&self, w: &mut Writer<'_>);
}

impl Field for u8 {
    fn put_into(&self, w: &mut Writer<'_>) {
        w.put(&[*self]);
    }
}

impl<const N: usize> Field for [u8; N] {
    fn put_into(&self, w: &mut Writer<'_>) {
        w.put(self);
    }
}

macro_rules! field_impl {
    ($t:ty, |$s:ident, $w:ident| $body:expr) => {
        impl Field for $t {
            fn put_into(&$s, $w: &mut Writer<'_>) {
                $body
            }
        }
    };
}
field_impl!(Le16, |self, w| w.put(&self.0));
field_impl!(Le32, |self, w| w.put(&self.0));
field_impl!(Le64, |self, w| w.put(&self.0));
field_impl!(ReqHead, |self, w| {
    self.type_.put_into(w);
    self.reserved.put_into(w);
});
field_impl!(ReqTail, |self, w| {
    self.status.put_into(w);
    self.reserved.put_into(w);
});
field_impl!(ProbeProperty, |self, w| {
    self.type_.put_into(w);
    self.length.put_into(w);
});

/// `to_bytes()` of a wire struct: its fields in order, `$len` bytes (checked against the
/// struct's size at compile time, so a field left out cannot go unnoticed).
macro_rules! to_bytes {
    ($(#[$doc:meta])* $t:ty, $len:expr, [$($f:ident),+]) => {
        const _: () = assert!(size_of::<$t>() == $len);
        impl $t {
            $(#[$doc])*
            pub fn to_bytes(&self) -> [u8; $len] {
                let mut out = [0u8; $len];
                let n = self.write_to(&mut out);
                debug_assert!(n == Some($len));
                out
            }

            /// Writes the wire bytes at the start of `out` (in place: no copy on the request
            /// path); returns how many, or `None` if `out` is shorter.
            pub fn write_to(&self, out: &mut [u8]) -> Option<usize> {
                let mut w = Writer::new(out.get_mut(..$len)?);
                $(self.$f.put_into(&mut w);)+
                (w.ok && w.pos == $len).then_some($len)
            }
        }
    };
}

/// Request header, first 4 bytes of every request.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ReqHead {
    /// Request type (`T_*`).
    pub type_: u8,
    /// Reserved, zero.
    pub reserved: [u8; 3],
}

/// Request tail, last 4 bytes of every request, written by the device.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ReqTail {
    /// Status (`S_*`).
    pub status: u8,
    /// Reserved.
    pub reserved: [u8; 3],
}

/// ATTACH request.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ReqAttach {
    /// Header, type `T_ATTACH`.
    pub head: ReqHead,
    /// Domain ID.
    pub domain: Le32,
    /// Endpoint ID.
    pub endpoint: Le32,
    /// `ATTACH_F_*` flags.
    pub flags: Le32,
    /// Reserved, zero.
    pub reserved: [u8; 4],
    /// Tail (device-writable).
    pub tail: ReqTail,
}

/// DETACH request.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ReqDetach {
    /// Header, type `T_DETACH`.
    pub head: ReqHead,
    /// Domain ID.
    pub domain: Le32,
    /// Endpoint ID.
    pub endpoint: Le32,
    /// Reserved, zero.
    pub reserved: [u8; 8],
    /// Tail (device-writable).
    pub tail: ReqTail,
}

/// MAP request.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ReqMap {
    /// Header, type `T_MAP`.
    pub head: ReqHead,
    /// Domain ID.
    pub domain: Le32,
    /// First IOVA of the mapping.
    pub virt_start: Le64,
    /// Last IOVA of the mapping (inclusive).
    pub virt_end: Le64,
    /// Physical address of `virt_start`.
    pub phys_start: Le64,
    /// `MAP_F_*` flags.
    pub flags: Le32,
    /// Tail (device-writable).
    pub tail: ReqTail,
}

/// UNMAP request.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ReqUnmap {
    /// Header, type `T_UNMAP`.
    pub head: ReqHead,
    /// Domain ID.
    pub domain: Le32,
    /// First IOVA of the range.
    pub virt_start: Le64,
    /// Last IOVA of the range (inclusive).
    pub virt_end: Le64,
    /// Reserved, zero.
    pub reserved: [u8; 4],
    /// Tail (device-writable).
    pub tail: ReqTail,
}

/// Device-readable part of a PROBE request; `probe_size` bytes of
/// device-writable properties and a [`ReqTail`] follow it.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReqProbe {
    /// Header, type `T_PROBE`.
    pub head: ReqHead,
    /// Endpoint ID.
    pub endpoint: Le32,
    /// Reserved, zero.
    pub reserved: [u8; 64],
}

/// Probe property header.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ProbeProperty {
    /// Type in the low 12 bits (`PROBE_T_*`), 4 reserved high bits.
    pub type_: Le16,
    /// Length of the property value, header excluded.
    pub length: Le16,
}

/// RESV_MEM probe property.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ProbeResvMem {
    /// Header, type `PROBE_T_RESV_MEM`.
    pub head: ProbeProperty,
    /// `RESV_MEM_T_*`.
    pub subtype: u8,
    /// Reserved.
    pub reserved: [u8; 3],
    /// First address of the region.
    pub start: Le64,
    /// Last address of the region (inclusive).
    pub end: Le64,
}

/// Length of the RESV_MEM property value (header excluded).
pub const RESV_MEM_VALUE_LEN: usize = size_of::<ProbeResvMem>() - size_of::<ProbeProperty>();

/// Fault record written by the device on the event queue.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct FaultRecord {
    /// `FAULT_R_*`.
    pub reason: u8,
    /// Reserved.
    pub reserved: [u8; 3],
    /// `FAULT_F_*`.
    pub flags: Le32,
    /// Endpoint ID.
    pub endpoint: Le32,
    /// Reserved.
    pub reserved1: [u8; 4],
    /// Faulting address, valid with `FAULT_F_ADDRESS`.
    pub address: Le64,
}

/// Device configuration space layout.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Config {
    /// Supported page sizes.
    pub page_size_mask: Le64,
    /// First valid IOVA.
    pub input_start: Le64,
    /// Last valid IOVA (inclusive).
    pub input_end: Le64,
    /// First valid domain ID.
    pub domain_start: Le32,
    /// Last valid domain ID (inclusive).
    pub domain_end: Le32,
    /// Size of the PROBE properties area.
    pub probe_size: Le32,
    /// Bypass unattached endpoints (with `F_BYPASS_CONFIG`).
    pub bypass: u8,
    /// Reserved.
    pub reserved: [u8; 3],
}

/// Config offset of `page_size_mask` (le64).
pub const CFG_PAGE_SIZE_MASK: usize = offset_of!(Config, page_size_mask);
/// Config offset of `input_range.start` (le64).
pub const CFG_INPUT_START: usize = offset_of!(Config, input_start);
/// Config offset of `input_range.end` (le64).
pub const CFG_INPUT_END: usize = offset_of!(Config, input_end);
/// Config offset of `domain_range.start` (le32).
pub const CFG_DOMAIN_START: usize = offset_of!(Config, domain_start);
/// Config offset of `domain_range.end` (le32).
pub const CFG_DOMAIN_END: usize = offset_of!(Config, domain_end);
/// Config offset of `probe_size` (le32).
pub const CFG_PROBE_SIZE: usize = offset_of!(Config, probe_size);
/// Config offset of `bypass` (u8).
pub const CFG_BYPASS: usize = offset_of!(Config, bypass);
/// Size of the config space.
pub const CFG_SIZE: usize = size_of::<Config>();

const _: () = assert!(size_of::<Le16>() == 2);
const _: () = assert!(size_of::<Le32>() == 4);
const _: () = assert!(size_of::<Le64>() == 8);
const _: () = assert!(size_of::<ReqHead>() == 4);
const _: () = assert!(size_of::<ReqTail>() == 4);
const _: () = assert!(size_of::<ReqAttach>() == 24);
const _: () = assert!(size_of::<ReqDetach>() == 24);
const _: () = assert!(size_of::<ReqMap>() == 40);
const _: () = assert!(size_of::<ReqUnmap>() == 32);
const _: () = assert!(size_of::<ReqProbe>() == 72);
const _: () = assert!(size_of::<ProbeProperty>() == 4);
const _: () = assert!(size_of::<ProbeResvMem>() == 24);
const _: () = assert!(RESV_MEM_VALUE_LEN == 20);
const _: () = assert!(size_of::<FaultRecord>() == 24);
const _: () = assert!(size_of::<Config>() == 40);
const _: () = assert!(CFG_PAGE_SIZE_MASK == 0);
const _: () = assert!(CFG_INPUT_START == 8);
const _: () = assert!(CFG_INPUT_END == 16);
const _: () = assert!(CFG_DOMAIN_START == 24);
const _: () = assert!(CFG_DOMAIN_END == 28);
const _: () = assert!(CFG_PROBE_SIZE == 32);
const _: () = assert!(CFG_BYPASS == 36);
const _: () = assert!(offset_of!(ReqMap, flags) == 32);
const _: () = assert!(offset_of!(ReqUnmap, tail) == 28);
const _: () = assert!(offset_of!(FaultRecord, address) == 16);

/// Size of a request tail.
pub const TAIL_LEN: usize = size_of::<ReqTail>();

impl ReqHead {
    /// A header of type `type_` with zeroed reserved bytes.
    pub const fn new(type_: u8) -> Self {
        Self {
            type_,
            reserved: [0; 3],
        }
    }
}

impl ReqTail {
    /// Decodes a tail from the first 4 bytes of `b`.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let a: [u8; 4] = read_array(b, 0)?;
        let [status, r0, r1, r2] = a;
        Some(Self {
            status,
            reserved: [r0, r1, r2],
        })
    }
}

impl FaultRecord {
    /// Decodes a record from exactly 24 bytes; `None` for any other length.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != size_of::<Self>() {
            return None;
        }
        let [r0, r1, r2]: [u8; 3] = read_array(b, 1)?;
        Some(Self {
            reason: read_u8(b, 0)?,
            reserved: [r0, r1, r2],
            flags: Le32::from_bytes(read_array(b, 4)?),
            endpoint: Le32::from_bytes(read_array(b, 8)?),
            reserved1: read_array(b, 12)?,
            address: Le64::from_bytes(read_array(b, 16)?),
        })
    }
}

impl Config {
    /// Decodes the config space from at least [`CFG_SIZE`] bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let [r0, r1, r2]: [u8; 3] = read_array(b, CFG_BYPASS.checked_add(1)?)?;
        Some(Self {
            page_size_mask: Le64::from_bytes(read_array(b, CFG_PAGE_SIZE_MASK)?),
            input_start: Le64::from_bytes(read_array(b, CFG_INPUT_START)?),
            input_end: Le64::from_bytes(read_array(b, CFG_INPUT_END)?),
            domain_start: Le32::from_bytes(read_array(b, CFG_DOMAIN_START)?),
            domain_end: Le32::from_bytes(read_array(b, CFG_DOMAIN_END)?),
            probe_size: Le32::from_bytes(read_array(b, CFG_PROBE_SIZE)?),
            bypass: read_u8(b, CFG_BYPASS)?,
            reserved: [r0, r1, r2],
        })
    }
}

to_bytes!(
    /// Wire encoding, tail included.
    ReqAttach, 24, [head, domain, endpoint, flags, reserved, tail]
);
to_bytes!(
    /// Wire encoding, tail included.
    ReqDetach, 24, [head, domain, endpoint, reserved, tail]
);
to_bytes!(
    /// Wire encoding, tail included.
    ReqMap, 40, [head, domain, virt_start, virt_end, phys_start, flags, tail]
);
to_bytes!(
    /// Wire encoding, tail included.
    ReqUnmap, 32, [head, domain, virt_start, virt_end, reserved, tail]
);
to_bytes!(
    /// Wire encoding of the device-readable part.
    ReqProbe, 72, [head, endpoint, reserved]
);
to_bytes!(
    /// Wire encoding (used by tests and device models).
    ProbeResvMem, 24, [head, subtype, reserved, start, end]
);
to_bytes!(
    /// Wire encoding (used by tests and device models).
    FaultRecord, 24, [reason, reserved, flags, endpoint, reserved1, address]
);
to_bytes!(
    /// Wire encoding (used by tests and device models).
    Config,
    CFG_SIZE,
    [page_size_mask, input_start, input_end, domain_start, domain_end, probe_size, bypass, reserved]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_refuses_overflow() {
        let mut buf = [0u8; 3];
        let mut w = Writer::new(&mut buf);
        w.put(&[1, 2]);
        w.put(&[3, 4]);
        assert!(!w.ok);
        assert_eq!(w.pos, 2);
        assert_eq!(buf, [1, 2, 0]);
    }

    #[test]
    fn config_roundtrip() {
        let c = Config {
            page_size_mask: Le64::new(0x1000),
            input_end: Le64::new(u64::MAX),
            domain_end: Le32::new(7),
            probe_size: Le32::new(512),
            bypass: 1,
            ..Default::default()
        };
        let b = c.to_bytes();
        assert_eq!(read_le32(&b, CFG_PROBE_SIZE), Some(512));
        assert_eq!(read_u8(&b, CFG_BYPASS), Some(1));
        assert_eq!(Config::from_bytes(&b), Some(c));
        assert_eq!(Config::from_bytes(&b[..39]), None);
        assert_eq!(read_le64(&b, usize::MAX), None);
    }
}
