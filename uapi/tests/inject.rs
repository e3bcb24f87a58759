//! Failure injection: command parsing, the atomic encoding, and what a poisoned request looks
//! like on the wire.

use virtio_iommu_proto::inject::{
    poison_encoded, Command, Kind, MAX_COUNT, POISON_DOMAIN, POISON_ENDPOINT,
};
use virtio_iommu_proto::request::Request;

const MAP: Request = Request::Map {
    domain: 3,
    virt_start: 0x1000,
    virt_end: 0x1fff,
    phys_start: 0x8000,
    flags: 3,
};

fn encoded(req: Request) -> Vec<u8> {
    let l = req.layout(64);
    let mut buf = vec![0u8; l.readable + l.writable];
    req.encode(&mut buf, 64).unwrap();
    buf
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[test]
fn parses_commands() {
    let c = Command::parse(b"map 2\n").unwrap();
    assert_eq!((c.kind, c.count), (Some(Kind::Map), 2));
    assert_eq!(Command::parse(b" off ").unwrap().kind, None);
    assert_eq!(Command::parse(b"unmap 0").unwrap().kind, None);
    for bad in [
        &b""[..],
        b"map",
        b"map x",
        b"map 1 2",
        b"frob 1",
        b"map -1",
        b"\xff 1",
    ] {
        assert_eq!(Command::parse(bad), None, "{:?}", bad);
    }
    assert_eq!(
        Command::parse(format!("probe {}", MAX_COUNT + 1).as_bytes()),
        None
    );
}

#[test]
fn encoding_round_trips() {
    for k in [
        Kind::Attach,
        Kind::Detach,
        Kind::Map,
        Kind::Unmap,
        Kind::Probe,
    ] {
        for count in [1, 7, MAX_COUNT] {
            let c = Command {
                kind: Some(k),
                count,
            };
            assert_eq!(Command::decode(c.encode()), c);
        }
    }
    assert_eq!(Command::decode(0).kind, None);
    assert_eq!(Command::decode(0xff00_0001).kind, None);
}

#[test]
fn take_counts_down_only_its_kind() {
    let c = Command::parse(b"map 2").unwrap();
    assert_eq!(c.take(Kind::Probe), None);
    let c = c.take(Kind::Map).unwrap();
    assert_eq!(c.count, 1);
    let c = c.take(Kind::Map).unwrap();
    assert_eq!((c.kind, c.count), (None, 0));
    assert_eq!(c.take(Kind::Map), None);
}

#[test]
fn poisoned_requests_name_nothing_the_device_has() {
    let mut b = encoded(MAP);
    assert_eq!(Kind::of_encoded(&b), Some(Kind::Map));
    assert!(poison_encoded(&mut b, Kind::Map));
    assert_eq!(le32(&b, 4), POISON_DOMAIN);
    assert_eq!(b[8..16], 0x1000u64.to_le_bytes());
    let mut b = encoded(Request::Attach {
        domain: 1,
        endpoint: 8,
        bypass: false,
    });
    assert_eq!(Kind::of_encoded(&b), Some(Kind::Attach));
    assert!(poison_encoded(&mut b, Kind::Attach));
    assert_eq!((le32(&b, 4), le32(&b, 8)), (1, POISON_ENDPOINT));
    let mut b = encoded(Request::Probe { endpoint: 8 });
    assert!(poison_encoded(&mut b, Kind::Probe));
    assert_eq!(le32(&b, 4), POISON_ENDPOINT);
    assert!(!poison_encoded(&mut [0u8; 6], Kind::Map));
    assert_eq!(Kind::of_encoded(&[9]), None);
}
