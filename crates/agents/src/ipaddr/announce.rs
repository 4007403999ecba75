//! Telling the network that the address moved: gratuitous ARP for IPv4 (RFC 5227 §3, "ARP
//! Announcement": an ARP request whose sender and target protocol addresses are both the
//! moved address) and unsolicited Neighbor Advertisements for IPv6 (RFC 4861 §7.2.6:
//! sent to all-nodes, Override flag set, Solicited flag clear, with the Target Link-Layer
//! Address option).
//!
//! This is the one module of the project allowed `unsafe`: sending a raw Ethernet-level ARP
//! frame needs an `AF_PACKET` socket address (`sockaddr_ll`), which neither std nor socket2
//! can build safely. The unsafe code is two lines: viewing socket2's zeroed address storage
//! as a `sockaddr_ll` (which fits, and which every bit pattern is valid for) and telling
//! socket2 how many bytes of it are set. The NA goes through an ordinary ICMPv6 raw socket
//! (the kernel computes the checksum) and needs no unsafe code.
#![allow(unsafe_code)]

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};

/// EtherType of ARP.
const ETH_P_ARP: u16 = 0x0806;

/// The ARP request announcing `ip` at `mac` (28 bytes: Ethernet/IPv4 ARP).
pub fn arp_announcement(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 28] {
    let mut p = [0u8; 28];
    p[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware type: Ethernet
    p[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol type: IPv4
    p[4] = 6; // hardware address length
    p[5] = 4; // protocol address length
    p[6..8].copy_from_slice(&1u16.to_be_bytes()); // operation: request
    p[8..14].copy_from_slice(&mac); // sender hardware address
    p[14..18].copy_from_slice(&ip.octets()); // sender protocol address
    // target hardware address: zero (unknown), as in an announcement
    p[24..28].copy_from_slice(&ip.octets()); // target protocol address
    p
}

/// The unsolicited Neighbor Advertisement for `target` at `mac` (32 bytes; checksum left
/// zero for the kernel to fill).
pub fn neighbor_advertisement(mac: [u8; 6], target: Ipv6Addr) -> [u8; 32] {
    let mut p = [0u8; 32];
    p[0] = 136; // type: Neighbor Advertisement
    p[4] = 0x20; // flags: Override
    p[8..24].copy_from_slice(&target.octets());
    p[24] = 2; // option: Target Link-Layer Address
    p[25] = 1; // length in units of 8 bytes
    p[26..32].copy_from_slice(&mac);
    p
}

/// A sender of announcements on one interface.
pub enum Announcer {
    /// IPv4: an `AF_PACKET` datagram socket and the broadcast link-layer address.
    Arp {
        /// The socket.
        socket: Socket,
        /// Where to: Ethernet broadcast on the interface, protocol ARP.
        to: SockAddr,
        /// The frame.
        frame: [u8; 28],
    },
    /// IPv6: an ICMPv6 raw socket bound to the address.
    Na {
        /// The socket.
        socket: Socket,
        /// ff02::1 on the interface.
        to: SockAddr,
        /// The message.
        message: [u8; 32],
    },
}

impl Announcer {
    /// Prepares gratuitous ARPs for `ip` on interface `ifindex` with hardware address `mac`.
    pub fn arp(ifindex: u32, mac: [u8; 6], ip: Ipv4Addr) -> io::Result<Announcer> {
        // Protocol 0: this socket only sends, it receives nothing.
        let socket = Socket::new(Domain::PACKET, Type::DGRAM, None)?;
        let mut storage = SockAddrStorage::zeroed();
        // SAFETY: `SockAddrStorage` is a zeroed `sockaddr_storage`, which is larger than and
        // aligned for `sockaddr_ll`, a plain C struct of integers valid for any bit pattern.
        let ll = unsafe { storage.view_as::<libc::sockaddr_ll>() };
        ll.sll_family = libc::AF_PACKET as u16;
        ll.sll_protocol = ETH_P_ARP.to_be();
        ll.sll_ifindex =
            i32::try_from(ifindex).map_err(|_| io::Error::other("ifindex out of range"))?;
        ll.sll_halen = 6;
        ll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: the first `len` bytes of the storage are the `sockaddr_ll` set above.
        let to = unsafe { SockAddr::new(storage, len) };
        Ok(Announcer::Arp {
            socket,
            to,
            frame: arp_announcement(mac, ip),
        })
    }

    /// Prepares unsolicited Neighbor Advertisements for `ip` on interface `ifindex`.
    /// The address must be configured and past duplicate address detection.
    pub fn na(ifindex: u32, mac: [u8; 6], ip: Ipv6Addr) -> io::Result<Announcer> {
        let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        // RFC 4861 §7.1.2: receivers drop Neighbor Discovery messages whose hop limit is
        // not 255 (proof that they were not forwarded).
        socket.set_multicast_hops_v6(255)?;
        socket.set_unicast_hops_v6(255)?;
        socket.set_multicast_if_v6(ifindex)?;
        let scope = if ip.is_unicast_link_local() {
            ifindex
        } else {
            0
        };
        socket.bind(&SockAddr::from(SocketAddrV6::new(ip, 0, 0, scope)))?;
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        Ok(Announcer::Na {
            socket,
            to: SockAddr::from(SocketAddrV6::new(all_nodes, 0, 0, ifindex)),
            message: neighbor_advertisement(mac, ip),
        })
    }

    /// Sends one announcement.
    pub fn send(&self) -> io::Result<()> {
        let (socket, to, bytes): (&Socket, &SockAddr, &[u8]) = match self {
            Announcer::Arp { socket, to, frame } => (socket, to, frame),
            Announcer::Na {
                socket,
                to,
                message,
            } => (socket, to, message),
        };
        socket.send_to(bytes, to).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arp_frame_layout() {
        let f = arp_announcement([2, 0, 0, 0, 0, 1], Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(
            f,
            [
                0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 192, 0,
                2, 10
            ]
        );
    }

    #[test]
    fn na_layout() {
        let m = neighbor_advertisement([2, 0, 0, 0, 0, 1], "2001:db8::10".parse().unwrap());
        assert_eq!(&m[..8], &[136, 0, 0, 0, 0x20, 0, 0, 0]);
        assert_eq!(
            &m[8..24],
            &"2001:db8::10".parse::<Ipv6Addr>().unwrap().octets()
        );
        assert_eq!(&m[24..], &[2, 1, 2, 0, 0, 0, 0, 1]);
    }
}
