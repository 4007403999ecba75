//! The kernel's addresses, links and routes through rtnetlink (no `ip` binary).

use std::net::IpAddr;

use futures::TryStreamExt;
use rtnetlink::Handle;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};

use crate::ocf::{Failure, rc};

/// The most links, addresses or routes read from one dump: a bound on memory for hosts with
/// huge routing tables (a full BGP table is ~1M routes; an HA node has a handful).
pub const MAX_DUMP_ENTRIES: usize = 100_000;

/// Linux `errno` values the agent treats specially.
pub const EEXIST: i32 = 17;
/// No such address (deleting one that is gone).
pub const EADDRNOTAVAIL: i32 = 99;
/// No such device / entry.
pub const ENODEV: i32 = 19;
/// Operation not permitted.
pub const EPERM: i32 = 1;
/// No such process / entry (routes).
pub const ESRCH: i32 = 3;

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// ifindex.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Hardware address.
    pub mac: Vec<u8>,
    /// Administratively up.
    pub up: bool,
}

/// An address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// ifindex.
    pub index: u32,
    /// The address.
    pub ip: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// IPv6 duplicate address detection still running.
    pub tentative: bool,
    /// IPv6 duplicate address detection found a duplicate.
    pub dadfailed: bool,
}

/// The errno of a netlink error, if it is one.
pub fn errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => Some(m.raw_code().abs()),
        _ => None,
    }
}

/// Maps a netlink error to an OCF failure (`EPERM` → insufficient privileges).
pub fn failure(what: &str, e: &rtnetlink::Error) -> Failure {
    let code = if errno(e) == Some(EPERM) {
        rc::ERR_PERM
    } else {
        rc::ERR_GENERIC
    };
    Failure::new(code, format!("{what}: {e}"))
}

/// Link and address change events from the kernel.
pub type Events = futures::channel::mpsc::UnboundedReceiver<(
    rtnetlink::packet_core::NetlinkMessage<rtnetlink::packet_route::RouteNetlinkMessage>,
    rtnetlink::sys::SocketAddr,
)>;

/// A connection to the kernel's routing netlink.
pub struct Netlink {
    handle: Handle,
}

impl Netlink {
    /// Connects; must run inside a tokio runtime.
    pub fn connect() -> Result<Netlink, Failure> {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| Failure::generic(format!("cannot open a netlink socket: {e}")))?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// Connects with a subscription to link and address changes (what `ip monitor link
    /// address` sees); the events arrive on the returned channel, answers to requests as
    /// usual. Must run inside a tokio runtime.
    pub fn connect_watching() -> Result<(Netlink, Events), Failure> {
        let (conn, handle, events) = rtnetlink::new_multicast_connection(&[
            rtnetlink::MulticastGroup::Link,
            rtnetlink::MulticastGroup::Ipv4Ifaddr,
            rtnetlink::MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(|e| Failure::generic(format!("cannot subscribe to netlink events: {e}")))?;
        tokio::spawn(conn);
        Ok((Netlink { handle }, events))
    }

    /// Every interface.
    pub async fn links(&self) -> Result<Vec<Link>, Failure> {
        let msgs: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| failure("cannot list interfaces", &e))?;
        Ok(msgs
            .into_iter()
            .take(MAX_DUMP_ENTRIES)
            .map(to_link)
            .collect())
    }

    /// The interface called `name`, if it exists.
    pub async fn link(&self, name: &str) -> Result<Option<Link>, Failure> {
        Ok(self.links().await?.into_iter().find(|l| l.name == name))
    }

    /// Brings an interface up.
    pub async fn set_up(&self, index: u32) -> Result<(), Failure> {
        let msg = rtnetlink::LinkUnspec::new_with_index(index).up().build();
        self.handle
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(|e| failure("cannot bring the interface up", &e))
    }

    /// Every address of one family (of all interfaces).
    pub async fn addrs(&self, v6: bool) -> Result<Vec<Addr>, Failure> {
        let msgs: Vec<AddressMessage> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| failure("cannot list addresses", &e))?;
        Ok(msgs
            .into_iter()
            .take(MAX_DUMP_ENTRIES)
            .filter(|m| (m.header.family == AddressFamily::Inet6) == v6)
            .filter_map(to_addr)
            .collect())
    }

    /// Adds an address; an address that is already there is success (start is idempotent).
    pub async fn add_addr(&self, spec: &AddrSpec) -> Result<(), Failure> {
        let mut req = self.handle.address().add(spec.index, spec.ip, spec.prefix);
        let msg = req.message_mut();
        if let Some(b) = spec.broadcast {
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(label) = &spec.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        if spec.nodad {
            msg.header.flags |= AddressHeaderFlags::Nodad;
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        match req.execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(EEXIST) => Ok(()),
            Err(e) => Err(failure(
                &format!("cannot add {}/{}", spec.ip, spec.prefix),
                &e,
            )),
        }
    }

    /// Deletes an address; one that is already gone is success (stop is idempotent).
    pub async fn del_addr(&self, a: &Addr) -> Result<(), Failure> {
        let mut req = self.handle.address().add(a.index, a.ip, a.prefix);
        let msg = std::mem::take(req.message_mut());
        match self.handle.address().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if matches!(errno(&e), Some(EADDRNOTAVAIL | ENODEV | ESRCH)) => Ok(()),
            Err(e) => Err(failure(&format!("cannot delete {}/{}", a.ip, a.prefix), &e)),
        }
    }

    /// The routes of the main table that leave through interface `index`.
    pub async fn routes(&self, v6: bool, index: u32) -> Result<Vec<RouteMessage>, Failure> {
        let query = if v6 {
            rtnetlink::RouteMessageBuilder::<std::net::Ipv6Addr>::new().build()
        } else {
            rtnetlink::RouteMessageBuilder::<std::net::Ipv4Addr>::new().build()
        };
        let msgs: Vec<RouteMessage> = self
            .handle
            .route()
            .get(query)
            .execute()
            .try_collect()
            .await
            .map_err(|e| failure("cannot list routes", &e))?;
        Ok(msgs
            .into_iter()
            .take(MAX_DUMP_ENTRIES)
            .filter(|r| route_table(r) == u32::from(RouteHeader::RT_TABLE_MAIN))
            .filter(|r| r.attributes.contains(&RouteAttribute::Oif(index)))
            .collect())
    }

    /// Replaces a route with the same one but another preferred source (`None`: none).
    pub async fn set_prefsrc(
        &self,
        route: &RouteMessage,
        src: Option<IpAddr>,
    ) -> Result<(), Failure> {
        let mut msg = RouteMessage::default();
        msg.header = route.header.clone();
        msg.header.flags = Default::default();
        msg.attributes = route
            .attributes
            .iter()
            .filter(|a| {
                matches!(
                    a,
                    RouteAttribute::Destination(_)
                        | RouteAttribute::Gateway(_)
                        | RouteAttribute::Oif(_)
                        | RouteAttribute::Priority(_)
                        | RouteAttribute::Table(_)
                        | RouteAttribute::Metrics(_)
                        | RouteAttribute::Preference(_)
                        | RouteAttribute::MultiPath(_)
                        | RouteAttribute::Via(_)
                )
            })
            .cloned()
            .collect();
        if let Some(src) = src {
            msg.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
        }
        self.handle
            .route()
            .add(msg)
            .replace()
            .execute()
            .await
            .map_err(|e| failure("cannot change the route's preferred source", &e))
    }
}

/// What to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrSpec {
    /// ifindex.
    pub index: u32,
    /// Address.
    pub ip: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// IPv4 broadcast address.
    pub broadcast: Option<std::net::Ipv4Addr>,
    /// IPv4 label (`eth0:vip`).
    pub label: Option<String>,
    /// IPv6: skip duplicate address detection.
    pub nodad: bool,
}

fn to_link(m: LinkMessage) -> Link {
    let mut link = Link {
        index: m.header.index,
        name: String::new(),
        mac: Vec::new(),
        up: m.header.flags.contains(LinkFlags::Up),
    };
    for a in m.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name = n,
            LinkAttribute::Address(mac) => link.mac = mac,
            _ => {}
        }
    }
    link
}

/// The address of an address message (new, deleted or dumped).
pub fn to_addr(m: AddressMessage) -> Option<Addr> {
    let mut local = None;
    let mut address = None;
    let mut flags = AddressFlags::from_bits_retain(u32::from(m.header.flags.bits()));
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Flags(f) => flags = *f,
            _ => {}
        }
    }
    Some(Addr {
        index: m.header.index,
        // IFA_LOCAL is the interface's own address on point-to-point links; else IFA_ADDRESS.
        ip: local.or(address)?,
        prefix: m.header.prefix_len,
        tentative: flags.contains(AddressFlags::Tentative),
        dadfailed: flags.contains(AddressFlags::Dadfailed),
    })
}

/// The table a route is in (the header holds 8 bits; `RTA_TABLE` the full id).
pub fn route_table(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(r.header.table))
}

/// A route's destination prefix (`0.0.0.0/0` for a default route).
pub fn route_destination(r: &RouteMessage) -> Option<(IpAddr, u8)> {
    let len = r.header.destination_prefix_length;
    let dst = r.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(RouteAddress::Inet(ip)) => Some(IpAddr::V4(*ip)),
        RouteAttribute::Destination(RouteAddress::Inet6(ip)) => Some(IpAddr::V6(*ip)),
        _ => None,
    });
    match (dst, r.header.address_family) {
        (Some(ip), _) => Some((ip, len)),
        (None, AddressFamily::Inet) => Some((IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0)),
        (None, AddressFamily::Inet6) => Some((IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), 0)),
        _ => None,
    }
}

/// A route's preferred source, if set.
pub fn route_prefsrc(r: &RouteMessage) -> Option<IpAddr> {
    r.attributes.iter().find_map(|a| match a {
        RouteAttribute::PrefSource(RouteAddress::Inet(ip)) => Some(IpAddr::V4(*ip)),
        RouteAttribute::PrefSource(RouteAddress::Inet6(ip)) => Some(IpAddr::V6(*ip)),
        _ => None,
    })
}

/// A route's metric.
pub fn route_metric(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Priority(p) => Some(*p),
            _ => None,
        })
        .unwrap_or(0)
}
