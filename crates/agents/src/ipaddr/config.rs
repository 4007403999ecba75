//! IPaddr's parameters, checked, and the address arithmetic they need.

use std::net::{IpAddr, Ipv4Addr};

use crate::ocf::{Env, Failure, number_param};

/// Linux's `IFNAMSIZ` minus the terminating NUL: the longest interface name or label.
pub const MAX_LABEL_LEN: usize = 15;

/// The most announcements per start: more only floods the segment.
pub const MAX_ARP_COUNT: u64 = 1000;

/// The longest pause between announcements, in ms.
pub const MAX_ARP_INTERVAL_MS: u64 = 60_000;

/// The IPv4 broadcast address to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// Computed from the prefix (`+`), the default.
    Auto,
    /// None (`-`).
    None,
    /// This one.
    Addr(Ipv4Addr),
}

/// IPaddr's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The floating address.
    pub ip: IpAddr,
    /// Its prefix length, if configured.
    pub prefix: Option<u8>,
    /// The interface, if configured.
    pub nic: Option<String>,
    /// IPv4 broadcast.
    pub broadcast: Broadcast,
    /// IPv4 label suffix (the address gets label `nic:label`).
    pub label: Option<String>,
    /// Announcements to send after start.
    pub arp_count: u64,
    /// Pause between announcements, ms.
    pub arp_interval_ms: u64,
    /// Send all but the first announcement in the background.
    pub arp_bg: bool,
    /// Make the address the preferred source of the routes to its subnet and of default
    /// routes through its interface.
    pub preferred_src: bool,
    /// IPv6: skip duplicate address detection.
    pub nodad: bool,
}

impl Config {
    /// Reads and checks the parameters (`OCF_ERR_CONFIGURED` on anything wrong).
    pub fn read(env: &Env) -> Result<Config, Failure> {
        let ip_text = env
            .param("ip")
            .ok_or_else(|| Failure::configured("parameter ip is required"))?;
        let ip: IpAddr = ip_text.trim().parse().map_err(|_| {
            Failure::configured(format!("ip={ip_text:?} is not an IPv4 or IPv6 address"))
        })?;
        let prefix = env
            .param("cidr_netmask")
            .map(|m| parse_prefix(m, ip))
            .transpose()?;
        let broadcast = match env.param("broadcast") {
            None | Some("+") => Broadcast::Auto,
            Some("-") => Broadcast::None,
            Some(b) => Broadcast::Addr(b.parse().map_err(|_| {
                Failure::configured(format!("broadcast={b:?} is not an IPv4 address, + or -"))
            })?),
        };
        let arp_count = number_param(env, "arp_count", 5)?;
        let arp_interval_ms = number_param(env, "arp_interval", 200)?;
        if arp_count > MAX_ARP_COUNT || arp_interval_ms > MAX_ARP_INTERVAL_MS {
            return Err(Failure::configured(format!(
                "arp_count must be at most {MAX_ARP_COUNT} and arp_interval at most {MAX_ARP_INTERVAL_MS} ms"
            )));
        }
        let nic = env.param("nic").map(str::to_string);
        if let Some(n) = &nic
            && (n.len() > MAX_LABEL_LEN || n.contains(['/', ' ', ':']))
        {
            return Err(Failure::configured(format!(
                "nic={n:?} is not a valid interface name"
            )));
        }
        let label = env.param("label").map(str::to_string);
        if let (Some(l), Some(n)) = (&label, &nic)
            && n.len() + 1 + l.len() > MAX_LABEL_LEN
        {
            return Err(Failure::configured(format!(
                "label {n}:{l} is longer than {MAX_LABEL_LEN} characters"
            )));
        }
        Ok(Config {
            ip,
            prefix,
            nic,
            broadcast,
            label,
            arp_count,
            arp_interval_ms,
            arp_bg: env.flag("arp_bg", true),
            preferred_src: env.flag("preferred_src", false),
            nodad: env.flag("nodad", false),
        })
    }

    /// The IPv4 broadcast address for this prefix, per the `broadcast` setting.
    pub fn broadcast_for(&self, prefix: u8) -> Option<Ipv4Addr> {
        let IpAddr::V4(ip) = self.ip else { return None };
        match self.broadcast {
            Broadcast::None => None,
            Broadcast::Addr(b) => Some(b),
            // /31 (RFC 3021) and /32 networks have no broadcast address.
            Broadcast::Auto if prefix >= 31 => None,
            Broadcast::Auto => Some(Ipv4Addr::from(u32::from(ip) | (u32::MAX >> prefix))),
        }
    }
}

/// A prefix length: `24`, or for IPv4 a dotted netmask (`255.255.255.0`).
pub fn parse_prefix(text: &str, ip: IpAddr) -> Result<u8, Failure> {
    let max = if ip.is_ipv6() { 128 } else { 32 };
    let bad = || {
        Failure::configured(format!(
            "cidr_netmask={text:?} is not a prefix length 0-{max} or a netmask"
        ))
    };
    let t = text.trim();
    if let Ok(n) = t.parse::<u8>() {
        return if n <= max { Ok(n) } else { Err(bad()) };
    }
    let mask: Ipv4Addr = t.parse().map_err(|_| bad())?;
    let bits = u32::from(mask);
    if ip.is_ipv6() || bits.leading_ones() + bits.trailing_zeros() != 32 {
        return Err(bad());
    }
    u8::try_from(bits.leading_ones()).map_err(|_| bad())
}

/// True if `ip` is in the network `net/prefix` (same family).
pub fn contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix.min(32)))
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix.min(128)))
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Env::from_pairs(&refs)
    }

    #[test]
    fn reads_a_full_configuration() {
        let c = Config::read(&env(&[
            ("ip", "192.0.2.10"),
            ("cidr_netmask", "255.255.255.0"),
            ("nic", "eth0"),
            ("label", "vip"),
            ("arp_count", "3"),
            ("arp_bg", "false"),
            ("preferred_src", "true"),
        ]))
        .unwrap();
        assert_eq!(c.ip, "192.0.2.10".parse::<IpAddr>().unwrap());
        assert_eq!(c.prefix, Some(24));
        assert_eq!(
            (c.arp_count, c.arp_interval_ms, c.arp_bg, c.preferred_src),
            (3, 200, false, true)
        );
        assert_eq!(c.broadcast_for(24), Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(c.broadcast_for(32), None);
    }

    #[test]
    fn refuses_bad_values_with_reasons() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "parameter ip is required"),
            (
                &[("ip", "192.0.2.300")],
                "ip=\"192.0.2.300\" is not an IPv4 or IPv6 address",
            ),
            (
                &[("ip", "192.0.2.1"), ("cidr_netmask", "33")],
                "cidr_netmask=\"33\" is not a prefix length 0-32 or a netmask",
            ),
            (
                &[("ip", "192.0.2.1"), ("cidr_netmask", "255.0.255.0")],
                "cidr_netmask=\"255.0.255.0\" is not a prefix length 0-32 or a netmask",
            ),
            (
                &[("ip", "2001:db8::1"), ("cidr_netmask", "255.255.255.0")],
                "cidr_netmask=\"255.255.255.0\" is not a prefix length 0-128 or a netmask",
            ),
            (
                &[("ip", "192.0.2.1"), ("broadcast", "x")],
                "broadcast=\"x\" is not an IPv4 address, + or -",
            ),
            (
                &[
                    ("ip", "192.0.2.1"),
                    ("nic", "eth0"),
                    ("label", "averyverylong"),
                ],
                "label eth0:averyverylong is longer than 15 characters",
            ),
            (
                &[("ip", "192.0.2.1"), ("arp_count", "5000")],
                "arp_count must be at most 1000 and arp_interval at most 60000 ms",
            ),
            (
                &[("ip", "192.0.2.1"), ("nic", "a/b")],
                "nic=\"a/b\" is not a valid interface name",
            ),
        ];
        for (pairs, reason) in cases {
            let f = Config::read(&env(pairs)).unwrap_err();
            assert_eq!(
                (f.rc, f.reason.as_str()),
                (crate::ocf::rc::ERR_CONFIGURED, *reason)
            );
        }
    }

    #[test]
    fn subnet_arithmetic() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(contains(ip("192.0.2.1"), 24, ip("192.0.2.200")));
        assert!(!contains(ip("192.0.2.1"), 24, ip("192.0.3.1")));
        assert!(contains(ip("0.0.0.0"), 0, ip("198.51.100.1")));
        assert!(contains(ip("2001:db8::1"), 64, ip("2001:db8::ffff")));
        assert!(!contains(ip("2001:db8::1"), 64, ip("2001:db8:1::1")));
        assert!(!contains(ip("192.0.2.1"), 24, ip("2001:db8::1")));
    }
}
