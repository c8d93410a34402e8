//! Offloads between the TUN device and the tunnel engine: the `virtio_net_hdr` that prefixes
//! every packet on a TUN device opened with `IFF_VNET_HDR`, user-space TCP segmentation of
//! the super-segments the kernel hands over with `TUN_F_TSO4` (GSO), completion of partial
//! checksums (`TUN_F_CSUM`), and user-space GRO: consecutive TCP segments of one flow are
//! coalesced into one super-segment before they are written to the TUN device.
//!
//! Everything here is pure (no I/O) and covered by unit tests.

/// Size of `struct virtio_net_hdr` (no `num_buffers`): the TUN default `TUNSETVNETHDRSZ`.
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `csum_start + csum_offset` is partial.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_NONE`.
pub const GSO_NONE: u8 = 0;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
pub const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_UDP_L4` (UDP segmentation: each segment one datagram).
pub const GSO_UDP_L4: u8 = 5;
/// `VIRTIO_NET_HDR_GSO_ECN` (flag on `gso_type`).
pub const GSO_ECN: u8 = 0x80;

/// Segments at most in one coalesced packet (the kernel's `UDP_MAX_SEGMENTS` is 128).
pub const MAX_SEGMENTS: usize = 64;

/// The largest IPv4 packet a super-segment may grow to.
pub const MAX_SUPER: usize = 65535;

/// `struct virtio_net_hdr` (little-endian fields: TUN devices are little-endian on the
/// architectures this runs on unless `TUNSETVNETBE` is used).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `flags`.
    pub flags: u8,
    /// `gso_type`.
    pub gso_type: u8,
    /// `hdr_len`: bytes of headers (IP + TCP) in a GSO packet.
    pub hdr_len: u16,
    /// `gso_size`: payload bytes per segment.
    pub gso_size: u16,
    /// `csum_start`: where the checksummed region begins.
    pub csum_start: u16,
    /// `csum_offset`: where, from `csum_start`, the checksum goes.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Parses the first [`VNET_HDR_LEN`] bytes of `b`.
    pub fn parse(b: &[u8]) -> Option<VnetHdr> {
        let b = b.get(..VNET_HDR_LEN)?;
        let u = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Some(VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        })
    }

    /// The wire form.
    pub fn to_bytes(self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        b
    }
}

// ------------------------------------------------------------------------------ checksums

/// Adds `data` to a ones'-complement accumulator. The sum is kept in native byte order (the
/// ones'-complement sum is byte-order independent up to a final swap, see [`fold`]); `data`
/// must start at an even offset of the checksummed region unless it is the last piece.
#[inline]
pub fn csum_add(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let (s, carry) = acc.overflowing_add(v);
        acc = s.wrapping_add(u64::from(carry));
    }
    let mut rest = chunks.remainder();
    while rest.len() >= 2 {
        let v = u64::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let (s, carry) = acc.overflowing_add(v);
        acc = s.wrapping_add(u64::from(carry));
        rest = &rest[2..];
    }
    if let [last] = rest {
        let v = u64::from(u16::from_ne_bytes([*last, 0]));
        let (s, carry) = acc.overflowing_add(v);
        acc = s.wrapping_add(u64::from(carry));
    }
    acc
}

/// Folds an accumulator of [`csum_add`] to the 16-bit ones'-complement sum, in network
/// order (not complemented).
#[inline]
pub fn fold(acc: u64) -> u16 {
    let mut s = (acc & 0xffff_ffff) + (acc >> 32);
    s = (s & 0xffff_ffff) + (s >> 32);
    let mut s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    u16::from_be(s as u16)
}

/// The accumulator of the IPv4 pseudo-header (source, destination, protocol, length).
#[inline]
pub fn pseudo_header(src: &[u8], dst: &[u8], protocol: u8, len: usize) -> u64 {
    let mut acc = csum_add(0, &src[..4]);
    acc = csum_add(acc, &dst[..4]);
    let tail = [0, protocol, (len >> 8) as u8, len as u8];
    csum_add(acc, &tail)
}

/// Recomputes the IPv4 header checksum of `ip` (header length from the IHL).
#[inline]
pub fn set_ip_checksum(ip: &mut [u8]) {
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    ip[10] = 0;
    ip[11] = 0;
    let c = !fold(csum_add(0, &ip[..ihl]));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Completes a partial checksum (`VIRTIO_NET_HDR_F_NEEDS_CSUM`): the ones'-complement sum
/// of `packet[start..]` (whose checksum field holds the pseudo-header sum) is complemented
/// and stored at `start + offset`. False when the offsets do not fit.
pub fn finish_partial_checksum(packet: &mut [u8], start: usize, offset: usize) -> bool {
    let at = start + offset;
    if start >= packet.len() || at + 2 > packet.len() {
        return false;
    }
    let mut c = !fold(csum_add(0, &packet[start..]));
    // UDP (offset 6) transmits an all-zero checksum as all ones.
    if c == 0 && offset == 6 {
        c = 0xffff;
    }
    packet[at..at + 2].copy_from_slice(&c.to_be_bytes());
    true
}

/// Whether the TCP checksum of the IPv4 packet `ip` (no trailing bytes) verifies.
pub fn tcp4_checksum_ok(ip: &[u8]) -> bool {
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let acc = pseudo_header(&ip[12..16], &ip[16..20], 6, ip.len() - ihl);
    fold(csum_add(acc, &ip[ihl..])) == 0xffff
}

// ------------------------------------------------------------- received super-segments

/// A decapsulated IPv4/TCP packet larger than `mtu` can only be a super-segment that GRO
/// made on the way: the receiving interface (or a router before it) coalesced the outer
/// packets of one inner TCP flow, and the raw socket hands over the result whole, with the
/// TCP checksum left partial (pseudo-header only). Written to the TUN device as it is, the
/// kernel would drop it as larger than the MTU. This prepares it to go back in as a TCP GSO
/// packet instead: the TCP checksum field gets the pseudo-header sum (the kernel completes
/// it, [`F_NEEDS_CSUM`]) and the returned header asks for segments of at most
/// `mtu - headers` payload bytes (any segmentation of a TCP stream is valid; the original
/// segment size is not carried by the raw socket). `None` (packet untouched) when `p` is not
/// such a packet: not IPv4/TCP, a fragment, a total length that disagrees with `p`, no
/// payload, or not larger than `mtu`.
pub fn received_super_tcp4(p: &mut [u8], mtu: usize) -> Option<VnetHdr> {
    if p.len() <= mtu || p.len() < 40 || p[0] >> 4 != 4 || p[9] != 6 || p.len() > MAX_SUPER {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < 20 || usize::from(u16::from_be_bytes([p[2], p[3]])) != p.len() {
        return None;
    }
    if p[6] & 0x3f != 0 || p[7] != 0 {
        return None; // MF or a fragment offset
    }
    let thl = usize::from(*p.get(ihl + 12)? >> 4) * 4;
    let hl = ihl + thl;
    if thl < 20 || p.len() <= hl || mtu <= hl {
        return None;
    }
    let ps = fold(pseudo_header(&p[12..16], &p[16..20], 6, p.len() - ihl));
    p[ihl + 16..ihl + 18].copy_from_slice(&ps.to_be_bytes());
    Some(VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_TCPV4 | if p[ihl + 13] & 0x80 != 0 { GSO_ECN } else { 0 },
        hdr_len: hl as u16,
        gso_size: (mtu - hl) as u16,
        csum_start: ihl as u16,
        csum_offset: 16,
    })
}

// --------------------------------------------------------------------------- segmentation

/// Why a super-segment could not be segmented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentError;

/// Splits the IPv4/TCP super-segment `packet` (a `GSO_TCPV4` packet from the TUN device)
/// into segments of at most `mss` payload bytes, as the kernel's TCP segmentation would:
/// each has the original headers with IP total length, Identification (+1 per segment) and
/// header checksum, TCP sequence number, flags (FIN and PSH on the last segment only, CWR on
/// the first only) and a full TCP checksum. Each segment is built in `scratch` and passed to
/// `emit`. Returns the number of segments.
///
/// # Errors
/// Not IPv4/TCP, headers beyond the packet, or `mss` 0.
pub fn segment_tcp4(
    packet: &[u8],
    mss: usize,
    scratch: &mut Vec<u8>,
    mut emit: impl FnMut(&[u8]),
) -> Result<usize, SegmentError> {
    if packet.len() < 20 || packet[0] >> 4 != 4 || packet[9] != 6 || mss == 0 {
        return Err(SegmentError);
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    if ihl < 20 || packet.len() < ihl + 20 {
        return Err(SegmentError);
    }
    let thl = usize::from(packet[ihl + 12] >> 4) * 4;
    let hl = ihl + thl;
    if thl < 20 || packet.len() < hl {
        return Err(SegmentError);
    }
    // The IP total length bounds the packet (0 is not expected below 64 KB).
    let total = match usize::from(u16::from_be_bytes([packet[2], packet[3]])) {
        0 => packet.len(),
        t if t >= hl && t <= packet.len() => t,
        _ => return Err(SegmentError),
    };
    let payload = &packet[hl..total];
    let id0 = u16::from_be_bytes([packet[4], packet[5]]);
    let seq0 = u32::from_be_bytes([
        packet[ihl + 4],
        packet[ihl + 5],
        packet[ihl + 6],
        packet[ihl + 7],
    ]);
    let flags = packet[ihl + 13];
    let count = payload.len().div_ceil(mss).max(1);
    scratch.clear();
    scratch.extend_from_slice(&packet[..hl]);
    for i in 0..count {
        let off = i * mss;
        let chunk = &payload[off.min(payload.len())..(off + mss).min(payload.len())];
        scratch.truncate(hl);
        scratch.extend_from_slice(chunk);
        let len = scratch.len();
        let s = &mut scratch[..];
        s[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        s[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
        set_ip_checksum(s);
        let t = ihl;
        s[t + 4..t + 8].copy_from_slice(&seq0.wrapping_add(off as u32).to_be_bytes());
        let mut f = flags;
        if i + 1 < count {
            f &= !(0x01 | 0x08); // FIN, PSH: last segment only
        }
        if i > 0 {
            f &= !0x80; // CWR: first segment only
        }
        s[t + 13] = f;
        s[t + 16] = 0;
        s[t + 17] = 0;
        let acc = pseudo_header(&packet[12..16], &packet[16..20], 6, len - ihl);
        let c = !fold(csum_add(acc, &s[t..]));
        s[t + 16..t + 18].copy_from_slice(&c.to_be_bytes());
        emit(&scratch[..]);
    }
    Ok(count)
}

// ---------------------------------------------------------------------------------- GRO

/// A super-segment being built by [`Gro`].
#[derive(Debug)]
pub struct Held {
    /// The packet so far (first segment's headers, payloads appended).
    pub buf: Vec<u8>,
    /// Segments in it.
    pub segments: usize,
    /// Payload bytes of the first segment (the `gso_size`).
    mss: usize,
    /// IP + TCP header length.
    hl: usize,
    /// The sequence number the next segment must have.
    next_seq: u32,
    /// The Identification the next segment must have.
    next_id: u16,
    /// Nothing more may be appended (PSH, or a short segment).
    closed: bool,
    /// Who owns it (the engine's tunnel id).
    pub tag: u32,
}

/// User-space GRO of consecutive TCP segments of one flow. See [`Gro::push`].
#[derive(Debug)]
pub struct Gro {
    held: Option<Held>,
    spare: Vec<u8>,
}

impl Default for Gro {
    fn default() -> Self {
        Gro::new()
    }
}

/// What [`Gro::push`] did with a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Push {
    /// Appended to (or started) the held super-segment.
    Held,
    /// Not coalescible: the caller writes it itself (after flushing what is held).
    Pass,
}

/// Whether `p` is an IPv4/TCP segment the coalescer may take: no IP options, not a fragment,
/// only ACK (and PSH) set, some payload, and a valid TCP checksum (the merged packet is
/// handed to the kernel with a partial checksum, so the kernel will not verify it).
///
/// UDP datagrams too: unicast destination, a UDP length matching the IP length, a non-zero
/// valid checksum; they are coalesced into a `GSO_UDP_L4` packet (datagrams of one size, the
/// last one possibly shorter; the kernel splits it back into the same datagrams).
fn coalescible(p: &[u8]) -> Option<(usize, usize)> {
    if p.len() < 28 || p[0] != 0x45 || (p[9] != 6 && p[9] != 17) {
        return None;
    }
    if usize::from(u16::from_be_bytes([p[2], p[3]])) != p.len() {
        return None;
    }
    if p[6] & 0x3f != 0 || p[7] != 0 {
        return None; // MF or offset
    }
    if p[9] == 17 {
        let dst = std::net::Ipv4Addr::new(p[16], p[17], p[18], p[19]);
        if dst.is_broadcast() || dst.is_multicast() || dst.octets()[3] == 255 {
            return None;
        }
        if usize::from(u16::from_be_bytes([p[24], p[25]])) != p.len() - 20
            || p[26..28] == [0, 0]
            || p.len() == 28
        {
            return None;
        }
        let acc = pseudo_header(&p[12..16], &p[16..20], 17, p.len() - 20);
        if fold(csum_add(acc, &p[20..])) != 0xffff {
            return None;
        }
        return Some((28, p.len() - 28));
    }
    if p.len() < 40 {
        return None;
    }
    let thl = usize::from(p[20 + 12] >> 4) * 4;
    let hl = 20 + thl;
    if thl < 20 || p.len() <= hl {
        return None;
    }
    if p[20 + 13] & !0x18 != 0 || p[20 + 13] & 0x10 == 0 {
        return None; // anything but ACK / ACK+PSH
    }
    if !tcp4_checksum_ok(p) {
        return None;
    }
    Some((hl, p.len() - hl))
}

impl Gro {
    /// An empty coalescer.
    pub fn new() -> Gro {
        Gro {
            held: None,
            spare: Vec::with_capacity(MAX_SUPER),
        }
    }

    /// Offers the IPv4 packet `p` belonging to `tag`. When it does not continue the held
    /// super-segment, the held one is returned first through `flush` (then `p` may start a
    /// new one). [`Push::Pass`]: the packet cannot be coalesced, and the caller writes it
    /// (nothing is held any more at that point).
    pub fn push(&mut self, tag: u32, p: &[u8], mut flush: impl FnMut(&mut Held)) -> Push {
        let Some((hl, plen)) = coalescible(p) else {
            self.flush(flush);
            return Push::Pass;
        };
        if let Some(h) = &mut self.held {
            if Self::continues(h, tag, p, hl, plen) {
                h.buf.extend_from_slice(&p[hl..]);
                h.segments += 1;
                h.next_id = h.next_id.wrapping_add(1);
                if plen < h.mss || h.segments >= MAX_SEGMENTS {
                    h.closed = true;
                }
                if p[9] == 6 {
                    h.next_seq = h.next_seq.wrapping_add(plen as u32);
                    if p[20 + 13] & 0x08 != 0 {
                        h.closed = true;
                        h.buf[20 + 13] |= 0x08;
                    }
                }
                return Push::Held;
            }
        }
        self.flush(&mut flush);
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        buf.extend_from_slice(p);
        let seq = u32::from_be_bytes([p[24], p[25], p[26], p[27]]);
        let tcp = p[9] == 6;
        self.held = Some(Held {
            buf,
            segments: 1,
            mss: plen,
            hl,
            next_seq: seq.wrapping_add(plen as u32),
            next_id: u16::from_be_bytes([p[4], p[5]]).wrapping_add(1),
            closed: tcp && p[20 + 13] & 0x08 != 0,
            tag,
        });
        Push::Held
    }

    fn continues(h: &Held, tag: u32, p: &[u8], hl: usize, plen: usize) -> bool {
        let b = &h.buf;
        !h.closed
            && h.tag == tag
            && hl == h.hl
            && plen <= h.mss
            && b.len() + plen <= MAX_SUPER
            // TOS, DF, TTL, protocol, addresses
            && b[1] == p[1]
            && b[6] == p[6]
            && b[8] == p[8]
            && b[12..20] == p[12..20]
            && u16::from_be_bytes([p[4], p[5]]) == h.next_id
            // ports
            && b[20..24] == p[20..24]
            && (b[9] == 17
            || u32::from_be_bytes([p[24], p[25], p[26], p[27]]) == h.next_seq
            // ack, header length, window
            && b[28..32] == p[28..32]
            && b[32] == p[32]
            && b[34..36] == p[34..36]
            // urgent pointer: meaningless without URG, but a segment must come back as it was
            && b[38..40] == p[38..40]
            // options (timestamps included) identical
            && b[40..hl] == p[40..hl])
    }

    /// Hands the held super-segment (if any) to `flush`, finished: with two segments or more
    /// the IP total length and header checksum are set and the TCP checksum field holds the
    /// pseudo-header sum (see [`Held::vnet_hdr`]); a single segment is unchanged.
    pub fn flush(&mut self, mut flush: impl FnMut(&mut Held)) {
        if let Some(mut h) = self.held.take() {
            if h.segments > 1 {
                let len = h.buf.len();
                let b = &mut h.buf[..];
                b[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                b[4..6].copy_from_slice(&h.next_id.wrapping_sub(h.segments as u16).to_be_bytes());
                set_ip_checksum(b);
                let proto = b[9];
                let ps = fold(pseudo_header(&b[12..16], &b[16..20], proto, len - 20));
                if proto == 17 {
                    b[24..26].copy_from_slice(&((len - 20) as u16).to_be_bytes());
                    b[26..28].copy_from_slice(&ps.to_be_bytes());
                } else {
                    b[36..38].copy_from_slice(&ps.to_be_bytes());
                }
            }
            flush(&mut h);
            self.spare = h.buf;
        }
    }

    /// Whether a super-segment is held.
    pub fn is_holding(&self) -> bool {
        self.held.is_some()
    }
}

impl Held {
    /// Splits a finished super-segment back into the packets it was made of, built in
    /// `scratch` and passed to `emit` (for when the kernel refuses the super-segment).
    pub fn resegment(&self, scratch: &mut Vec<u8>, mut emit: impl FnMut(&[u8])) {
        if self.segments < 2 {
            emit(&self.buf);
            return;
        }
        if self.buf[9] == 6 {
            let mut b = self.buf.clone();
            finish_partial_checksum(&mut b, 20, 16);
            let _ = segment_tcp4(&b, self.mss, scratch, emit);
            return;
        }
        let id0 = u16::from_be_bytes([self.buf[4], self.buf[5]]);
        for (i, chunk) in self.buf[28..].chunks(self.mss).enumerate() {
            scratch.clear();
            scratch.extend_from_slice(&self.buf[..28]);
            scratch.extend_from_slice(chunk);
            let len = scratch.len();
            let s = &mut scratch[..];
            s[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            s[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
            set_ip_checksum(s);
            s[24..26].copy_from_slice(&((len - 20) as u16).to_be_bytes());
            s[26..28].copy_from_slice(&[0, 0]);
            let acc = pseudo_header(&self.buf[12..16], &self.buf[16..20], 17, len - 20);
            let mut c = !fold(csum_add(acc, &s[20..]));
            if c == 0 {
                c = 0xffff;
            }
            s[26..28].copy_from_slice(&c.to_be_bytes());
            emit(&scratch[..]);
        }
    }

    /// The bytes of the segments it was made of (each with its headers).
    pub fn inner_bytes(&self) -> usize {
        self.buf.len() + (self.segments - 1) * self.hl
    }

    /// The `virtio_net_hdr` to write the packet with: `GSO_TCPV4` with a partial checksum
    /// for a super-segment, `GSO_NONE` for a single segment.
    pub fn vnet_hdr(&self) -> VnetHdr {
        if self.segments < 2 {
            return VnetHdr::default();
        }
        let udp = self.buf[9] == 17;
        VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: if udp { GSO_UDP_L4 } else { GSO_TCPV4 },
            hdr_len: self.hl as u16,
            gso_size: self.mss as u16,
            csum_start: 20,
            csum_offset: if udp { 6 } else { 16 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mip_wire::error::internet_checksum;

    #[test]
    fn a_received_super_segment_goes_back_as_tcp_gso() {
        // What GRO leaves: 3 segments' payload behind one header, total length and IP
        // checksum fixed, the TCP checksum partial.
        let payload: Vec<u8> = (0..3 * 1448u32).map(|i| (i * 7) as u8).collect();
        let mut p = tcp(&payload, 1000, 9, 0x18);
        p[36..38].copy_from_slice(&[0xde, 0xad]);
        let mut q = p.clone();
        let h = received_super_tcp4(&mut q, 1500).expect("a super-segment");
        assert_eq!(
            h,
            VnetHdr {
                flags: F_NEEDS_CSUM,
                gso_type: GSO_TCPV4,
                hdr_len: 52,
                gso_size: 1448,
                csum_start: 20,
                csum_offset: 16,
            }
        );
        // Only the checksum field changed; completing it gives a valid TCP checksum, and the
        // segments the kernel would make are those of segment_tcp4.
        assert_eq!(q[..36], p[..36]);
        assert_eq!(q[38..], p[38..]);
        let mut done = q.clone();
        assert!(finish_partial_checksum(&mut done, 20, 16));
        assert!(tcp4_checksum_ok(&done));
        let mut scratch = Vec::new();
        let mut segs = Vec::new();
        let n = segment_tcp4(&done, 1448, &mut scratch, |s| segs.push(s.to_vec())).unwrap();
        assert_eq!(n, 3);
        assert!(segs.iter().all(|s| s.len() == 1500 && tcp4_checksum_ok(s)));
        // ECN's CWR is carried in the GSO type.
        let mut c = tcp(&payload, 1000, 9, 0x90);
        assert_eq!(
            received_super_tcp4(&mut c, 1500).unwrap().gso_type,
            GSO_TCPV4 | GSO_ECN
        );
    }

    #[test]
    fn only_oversized_whole_tcp_packets_count_as_received_super_segments() {
        let big = tcp(&[1u8; 3000], 1, 1, 0x10);
        // Fits the MTU: an ordinary packet.
        assert_eq!(
            received_super_tcp4(&mut tcp(&[1u8; 1000], 1, 1, 0x10), 1500),
            None
        );
        // A fragment, a length that disagrees, UDP, or an MTU below the headers: untouched.
        let mut frag = big.clone();
        frag[6] |= 0x20;
        assert_eq!(received_super_tcp4(&mut frag.clone(), 1500), None);
        let mut short = big.clone();
        short.truncate(2000);
        assert_eq!(received_super_tcp4(&mut short, 1500), None);
        let mut udp = big.clone();
        udp[9] = 17;
        assert_eq!(received_super_tcp4(&mut udp, 1500), None);
        assert_eq!(received_super_tcp4(&mut big.clone(), 40), None);
        let mut ok = big.clone();
        assert!(received_super_tcp4(&mut ok, 1500).is_some());
    }

    /// An IPv4/TCP packet with `payload`, timestamps option, valid checksums.
    fn tcp(payload: &[u8], seq: u32, id: u16, flags: u8) -> Vec<u8> {
        let hl = 20 + 32;
        let mut p = vec![0u8; hl + payload.len()];
        p[0] = 0x45;
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p[4..6].copy_from_slice(&id.to_be_bytes());
        p[6] = 0x40;
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&[10, 1, 0, 2]);
        p[16..20].copy_from_slice(&[10, 9, 9, 9]);
        let t = &mut p[20..];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&5201u16.to_be_bytes());
        t[4..8].copy_from_slice(&seq.to_be_bytes());
        t[8..12].copy_from_slice(&77u32.to_be_bytes());
        t[12] = 8 << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&500u16.to_be_bytes());
        t[20..32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        p[hl..].copy_from_slice(payload);
        set_ip_checksum(&mut p);
        let acc = pseudo_header(&[10, 1, 0, 2], &[10, 9, 9, 9], 6, p.len() - 20);
        let c = !fold(csum_add(acc, &p[20..]));
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn fast_checksum_matches_reference() {
        for len in [0usize, 1, 2, 3, 7, 8, 9, 20, 63, 1400, 1401, 65535] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            assert_eq!(
                !fold(csum_add(0, &data)),
                internet_checksum(&data),
                "len {len}"
            );
        }
    }

    #[test]
    fn vnet_hdr_round_trips() {
        let h = VnetHdr {
            flags: 1,
            gso_type: 1,
            hdr_len: 52,
            gso_size: 1448,
            csum_start: 20,
            csum_offset: 16,
        };
        assert_eq!(VnetHdr::parse(&h.to_bytes()), Some(h));
    }

    #[test]
    fn partial_checksum_is_finished() {
        let mut p = tcp(&[9u8; 333], 1, 1, 0x18);
        let want = [p[36], p[37]];
        let ps = fold(pseudo_header(&p[12..16], &p[16..20], 6, p.len() - 20));
        p[36..38].copy_from_slice(&ps.to_be_bytes());
        assert!(finish_partial_checksum(&mut p, 20, 16));
        assert_eq!([p[36], p[37]], want);
        assert!(tcp4_checksum_ok(&p));
    }

    #[test]
    fn super_segment_splits_into_valid_segments() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut sup = tcp(&payload, 1000, 50, 0x18 | 0x80 | 0x01);
        // As the kernel hands it: partial checksum (pseudo-header sum) in the TCP field.
        let ps = fold(pseudo_header(&sup[12..16], &sup[16..20], 6, sup.len() - 20));
        sup[36..38].copy_from_slice(&ps.to_be_bytes());
        let mut scratch = Vec::new();
        let mut segs: Vec<Vec<u8>> = Vec::new();
        let n = segment_tcp4(&sup, 1448, &mut scratch, |s| segs.push(s.to_vec())).unwrap();
        assert_eq!(n, 7);
        assert_eq!(segs.len(), 7);
        let mut joined = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            assert_eq!(internet_checksum(&s[..20]), 0, "IP checksum {i}");
            assert!(tcp4_checksum_ok(s), "TCP checksum {i}");
            assert_eq!(usize::from(u16::from_be_bytes([s[2], s[3]])), s.len());
            assert_eq!(u16::from_be_bytes([s[4], s[5]]), 50 + i as u16);
            let seq = u32::from_be_bytes([s[24], s[25], s[26], s[27]]);
            assert_eq!(seq, 1000 + joined.len() as u32);
            let last = i == 6;
            assert_eq!(s[33] & 0x01 != 0, last, "FIN");
            assert_eq!(s[33] & 0x08 != 0, last, "PSH");
            assert_eq!(s[33] & 0x80 != 0, i == 0, "CWR");
            assert_eq!(&s[40..52], &sup[40..52], "options");
            assert!(s.len() - 52 <= 1448);
            joined.extend_from_slice(&s[52..]);
        }
        assert_eq!(joined, payload);
        assert!(segment_tcp4(&sup[..30], 1448, &mut scratch, |_| {}).is_err());
    }

    #[test]
    fn consecutive_segments_coalesce_and_resegment() {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let chunks: Vec<&[u8]> = payload.chunks(1448).collect();
        let mut gro = Gro::new();
        let mut out: Vec<(VnetHdr, Vec<u8>, usize)> = Vec::new();
        let mut seq = 7u32;
        for (i, c) in chunks.iter().enumerate() {
            let flags = if i + 1 == chunks.len() { 0x18 } else { 0x10 };
            let p = tcp(c, seq, 100 + i as u16, flags);
            seq += c.len() as u32;
            let r = gro.push(3, &p, |h| {
                out.push((h.vnet_hdr(), h.buf.clone(), h.segments))
            });
            assert_eq!(r, Push::Held);
        }
        assert!(out.is_empty());
        // Another flow's segment flushes the held one.
        let other = tcp(b"x", 1, 1, 0x10);
        let mut o2 = other.clone();
        o2[22..24].copy_from_slice(&5202u16.to_be_bytes());
        let acc = pseudo_header(&o2[12..16], &o2[16..20], 6, o2.len() - 20);
        o2[36..38].copy_from_slice(&[0, 0]);
        let c = !fold(csum_add(acc, &o2[20..]));
        o2[36..38].copy_from_slice(&c.to_be_bytes());
        gro.push(3, &o2, |h| {
            out.push((h.vnet_hdr(), h.buf.clone(), h.segments))
        });
        assert_eq!(out.len(), 1);
        let (hdr, mut sup, segments) = out.pop().unwrap();
        assert_eq!(segments, 4);
        assert_eq!(hdr.gso_type, GSO_TCPV4);
        assert_eq!(hdr.flags, F_NEEDS_CSUM);
        assert_eq!(hdr.gso_size, 1448);
        assert_eq!((hdr.csum_start, hdr.csum_offset, hdr.hdr_len), (20, 16, 52));
        assert_eq!(internet_checksum(&sup[..20]), 0);
        assert_eq!(usize::from(u16::from_be_bytes([sup[2], sup[3]])), sup.len());
        assert_eq!(&sup[52..], &payload[..]);
        assert_eq!(sup[33], 0x18, "PSH of the last segment kept");
        assert_eq!(u16::from_be_bytes([sup[4], sup[5]]), 100);
        // The partial checksum finishes into a valid one.
        assert!(finish_partial_checksum(&mut sup, 20, 16));
        assert!(tcp4_checksum_ok(&sup));
        // Segmenting it again gives the original segments back.
        let mut scratch = Vec::new();
        let mut again = Vec::new();
        segment_tcp4(&sup, 1448, &mut scratch, |s| again.push(s.to_vec())).unwrap();
        let mut seq = 7u32;
        for (i, c) in chunks.iter().enumerate() {
            let flags = if i + 1 == chunks.len() { 0x18 } else { 0x10 };
            assert_eq!(again[i], tcp(c, seq, 100 + i as u16, flags), "segment {i}");
            seq += c.len() as u32;
        }
        gro.flush(|h| out.push((h.vnet_hdr(), h.buf.clone(), h.segments)));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, VnetHdr::default(), "single segment: GSO_NONE");
        assert_eq!(out[0].1, o2);
    }

    fn udp(payload: &[u8], id: u16) -> Vec<u8> {
        let mut p = vec![0u8; 28 + payload.len()];
        p[0] = 0x45;
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p[4..6].copy_from_slice(&id.to_be_bytes());
        p[8] = 64;
        p[9] = 17;
        p[12..16].copy_from_slice(&[10, 1, 0, 2]);
        p[16..20].copy_from_slice(&[10, 9, 9, 9]);
        p[20..22].copy_from_slice(&4000u16.to_be_bytes());
        p[22..24].copy_from_slice(&5201u16.to_be_bytes());
        p[24..26].copy_from_slice(&(total - 20).to_be_bytes());
        p[28..].copy_from_slice(payload);
        set_ip_checksum(&mut p);
        let acc = pseudo_header(&[10, 1, 0, 2], &[10, 9, 9, 9], 17, p.len() - 20);
        let mut c = !fold(csum_add(acc, &p[20..]));
        if c == 0 {
            c = 0xffff;
        }
        p[26..28].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn udp_datagrams_coalesce_and_split_back() {
        let dgrams: Vec<Vec<u8>> = (0..5u16)
            .map(|i| {
                let n = if i == 4 { 300 } else { 1372 };
                udp(&vec![i as u8 + 1; n], 40 + i)
            })
            .collect();
        let mut gro = Gro::new();
        let mut out = Vec::new();
        for d in &dgrams {
            assert_eq!(gro.push(9, d, |_| panic!("flushed early")), Push::Held);
        }
        gro.flush(|h| {
            assert_eq!(h.segments, 5);
            let v = h.vnet_hdr();
            assert_eq!(
                (v.gso_type, v.gso_size, v.csum_offset),
                (GSO_UDP_L4, 1372, 6)
            );
            assert_eq!(h.inner_bytes(), dgrams.iter().map(Vec::len).sum::<usize>());
            let mut scratch = Vec::new();
            h.resegment(&mut scratch, |s| out.push(s.to_vec()));
        });
        assert_eq!(out, dgrams);
        // A broadcast is not coalesced.
        let mut b = udp(&[1; 10], 1);
        b[16..20].copy_from_slice(&[255, 255, 255, 255]);
        assert_eq!(gro.push(9, &b, |_| {}), Push::Pass);
    }

    #[test]
    fn gaps_bad_checksums_and_flags_are_not_coalesced() {
        let mut gro = Gro::new();
        let mut flushed = 0;
        let a = tcp(&[1u8; 100], 1, 1, 0x10);
        assert_eq!(gro.push(1, &a, |_| flushed += 1), Push::Held);
        // sequence gap: flushes and starts again
        let b = tcp(&[1u8; 100], 500, 2, 0x10);
        assert_eq!(gro.push(1, &b, |_| flushed += 1), Push::Held);
        assert_eq!(flushed, 1);
        // bad checksum: passed through, held one flushed
        let mut c = tcp(&[1u8; 100], 600, 3, 0x10);
        c[60] ^= 1;
        assert_eq!(gro.push(1, &c, |_| flushed += 1), Push::Pass);
        assert_eq!(flushed, 2);
        assert!(!gro.is_holding());
        // SYN: passed through
        let d = tcp(&[], 1, 1, 0x02);
        assert_eq!(gro.push(1, &d, |_| flushed += 1), Push::Pass);
        // different tag: not merged
        let e = tcp(&[1u8; 100], 1, 1, 0x10);
        let f = tcp(&[1u8; 100], 101, 2, 0x10);
        gro.push(1, &e, |_| flushed += 1);
        gro.push(2, &f, |_| flushed += 1);
        assert_eq!(flushed, 3);
    }
}
