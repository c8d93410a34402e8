//! Reading capture files: classic pcap and pcapng, the link layers tcpdump and
//! tshark write on Linux, down to the IPv4 packet inside each frame.

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// One captured frame: its 1-based number in the file, link type, bytes.
pub struct Frame {
    pub number: usize,
    pub datalink: DataLink,
    pub data: Vec<u8>,
}

/// Every frame of a pcap or pcapng file, in order.
pub fn read_frames(path: &Path) -> Result<Vec<Frame>, String> {
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)
        .map_err(|e| format!("{}: not a capture file ({e})", path.display()))?;
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = BufReader::new(file);
    let mut frames = Vec::new();
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut r = PcapNgReader::new(reader).map_err(|e| format!("{}: {e}", path.display()))?;
        while let Some(block) = r.next_block() {
            let block = block
                .map_err(|e| format!("{}: frame {}: {e}", path.display(), frames.len() + 1))?;
            let (iface, data) = match block {
                Block::EnhancedPacket(p) => (p.interface_id as usize, p.data.into_owned()),
                Block::SimplePacket(p) => (0, p.data.into_owned()),
                _ => continue,
            };
            let datalink = r
                .interfaces()
                .get(iface)
                .map(|i| i.linktype)
                .ok_or_else(|| {
                    format!(
                        "{}: packet names interface {iface}, which is not described",
                        path.display()
                    )
                })?;
            frames.push(Frame {
                number: frames.len() + 1,
                datalink,
                data,
            });
        }
    } else {
        let mut r = PcapReader::new(reader).map_err(|e| format!("{}: {e}", path.display()))?;
        let datalink = r.header().datalink;
        while let Some(p) = r.next_packet() {
            let p =
                p.map_err(|e| format!("{}: frame {}: {e}", path.display(), frames.len() + 1))?;
            frames.push(Frame {
                number: frames.len() + 1,
                datalink,
                data: p.data.into_owned(),
            });
        }
    }
    Ok(frames)
}

/// The IPv4 packet carried by a frame, or `None` when the frame carries
/// something else (ARP, IPv6, an unsupported link layer).
pub fn ipv4_of(frame: &Frame) -> Option<&[u8]> {
    let d = frame.data.as_slice();
    let (ethertype, rest) = match frame.datalink {
        DataLink::ETHERNET => {
            let mut off = 12;
            let mut et = u16::from_be_bytes([*d.get(12)?, *d.get(13)?]);
            // 802.1Q / 802.1ad tags
            while et == 0x8100 || et == 0x88a8 {
                off += 4;
                et = u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]);
            }
            (et, d.get(off + 2..)?)
        }
        DataLink::LINUX_SLL => (u16::from_be_bytes([*d.get(14)?, *d.get(15)?]), d.get(16..)?),
        DataLink::LINUX_SLL2 => (u16::from_be_bytes([*d.first()?, *d.get(1)?]), d.get(20..)?),
        DataLink::RAW | DataLink::IPV4 => (0x0800, d),
        DataLink::NULL | DataLink::LOOP => {
            let fam = d.get(0..4)?;
            let v = u32::from_ne_bytes(fam.try_into().ok()?);
            let v_be = u32::from_be_bytes(fam.try_into().ok()?);
            (if v == 2 || v_be == 2 { 0x0800 } else { 0 }, d.get(4..)?)
        }
        _ => return None,
    };
    if ethertype != 0x0800 || rest.first().map(|b| b >> 4) != Some(4) {
        return None;
    }
    Some(rest)
}
