//! Status snapshots and corosync-cmapctl keys built from the core's status and the config.

use tandem_totem::config::AtbNode;

use crate::ipc::{CmapEntry, DaemonStatus, Member, PeerLink};
use crate::run::Daemon;

pub(crate) fn status(d: &Daemon) -> DaemonStatus {
    let s = d.node.totem().status();
    let cfg = &d.setup.cfg;
    let name = |id| {
        cfg.node(id)
            .map(|n| n.display_name())
            .unwrap_or_else(|| id.to_string())
    };
    let votes = |id| {
        s.quorum
            .members
            .iter()
            .find(|(m, _)| *m == id)
            .map(|(_, v)| *v)
    };
    let members = s
        .members
        .iter()
        .map(|id| Member {
            id: *id,
            votes: votes(*id).unwrap_or_else(|| cfg.node(*id).map_or(1, |n| n.quorum_votes)),
            name: name(*id),
        })
        .collect();
    let local_links = d
        .setup
        .addrs
        .iter()
        .filter(|((n, _), _)| *n == d.me())
        .map(|((_, l), a)| (*l, a.ip().to_string()))
        .collect();
    let peer_links = s
        .peers
        .iter()
        .flat_map(|p| {
            p.links.iter().map(move |l| PeerLink {
                node: p.id,
                link: l.link,
                connected: l.connected,
            })
        })
        .collect();
    DaemonStatus {
        node_id: d.me(),
        cluster_name: cfg.cluster_name().to_string(),
        ring: s.ring.to_string(),
        forming: s.forming,
        members,
        quorum: s.quorum,
        local_links,
        peer_links,
        stats: s.stats,
        transport: cfg.totem.transport.clone().unwrap_or_else(|| "knet".into()),
    }
}

fn e(key: String, kind: &str, value: impl ToString) -> CmapEntry {
    CmapEntry {
        key,
        kind: kind.to_string(),
        value: value.to_string(),
    }
}

pub(crate) fn cmap(d: &Daemon, prefix: Option<&str>) -> Vec<CmapEntry> {
    let mut v = Vec::new();
    config_keys(d, &mut v);
    runtime_keys(d, &mut v);
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v.retain(|x| prefix.is_none_or(|p| x.key.starts_with(p)));
    v
}

fn config_keys(d: &Daemon, v: &mut Vec<CmapEntry>) {
    let cfg = &d.setup.cfg;
    let t = &cfg.totem;
    v.push(e("totem.version".into(), "u32", 2));
    v.push(e("totem.cluster_name".into(), "str", cfg.cluster_name()));
    if let Some(x) = &t.transport {
        v.push(e("totem.transport".into(), "str", x));
    }
    if let Some(x) = &t.crypto_cipher {
        v.push(e("totem.crypto_cipher".into(), "str", x));
    }
    if let Some(x) = &t.crypto_hash {
        v.push(e("totem.crypto_hash".into(), "str", x));
    }
    if let Some(x) = t.token_ms {
        v.push(e("totem.token".into(), "u32", x));
    }
    if let Some(x) = t.consensus_ms {
        v.push(e("totem.consensus".into(), "u32", x));
    }
    for (i, n) in cfg.nodes.iter().enumerate() {
        v.push(e(format!("nodelist.node.{i}.nodeid"), "u32", n.nodeid));
        if let Some(name) = &n.name {
            v.push(e(format!("nodelist.node.{i}.name"), "str", name));
        }
        for (l, a) in &n.addrs {
            v.push(e(format!("nodelist.node.{i}.ring{l}_addr"), "str", a));
        }
        v.push(e(
            format!("nodelist.node.{i}.quorum_votes"),
            "u32",
            n.quorum_votes,
        ));
        if n.nodeid == d.me() {
            v.push(e("nodelist.local_node_pos".into(), "u32", i));
        }
    }
    let q = &cfg.quorum;
    if q.enabled {
        v.push(e("quorum.provider".into(), "str", "corosync_votequorum"));
        v.push(e("quorum.two_node".into(), "u8", u8::from(q.two_node)));
        v.push(e(
            "quorum.wait_for_all".into(),
            "u8",
            u8::from(q.wait_for_all),
        ));
        v.push(e(
            "quorum.last_man_standing".into(),
            "u8",
            u8::from(q.last_man_standing),
        ));
        v.push(e(
            "quorum.auto_tie_breaker".into(),
            "u8",
            u8::from(q.auto_tie_breaker),
        ));
        if let Some(x) = q.expected_votes {
            v.push(e("quorum.expected_votes".into(), "u32", x));
        }
    }
}

fn runtime_keys(d: &Daemon, v: &mut Vec<CmapEntry>) {
    let timing = d.node.totem().params().timing;
    for (k, x) in [
        ("token", timing.token_ms),
        ("token_retransmit", timing.token_retransmit_ms),
        ("hold", timing.hold_ms),
        (
            "token_retransmits_before_loss_const",
            timing.token_retransmits_before_loss_const,
        ),
        ("join", timing.join_ms),
        ("send_join", timing.send_join_ms),
        ("consensus", timing.consensus_ms),
        ("merge", timing.merge_ms),
        ("downcheck", timing.downcheck_ms),
        ("fail_recv_const", timing.fail_recv_const),
        ("seqno_unchanged_const", timing.seqno_unchanged_const),
        ("max_network_delay", timing.max_network_delay_ms),
        ("window_size", timing.window_size),
        ("max_messages", timing.max_messages),
        ("miss_count_const", timing.miss_count_const),
        ("token_warning", timing.token_warning),
    ] {
        v.push(e(format!("runtime.config.totem.{k}"), "u32", x));
    }
    for l in d.setup.cfg.links() {
        v.push(e(
            format!("runtime.config.totem.interface.{l}.knet_ping_interval"),
            "u32",
            timing.ping_interval_ms,
        ));
        v.push(e(
            format!("runtime.config.totem.interface.{l}.knet_ping_timeout"),
            "u32",
            timing.ping_timeout_ms,
        ));
    }
    let s = d.node.totem().status();
    let mut ids: Vec<u32> = s.peers.iter().map(|p| p.id).collect();
    ids.push(d.me());
    ids.sort_unstable();
    for id in ids {
        let member = s.members.contains(&id);
        let joins = if id == d.me() {
            1
        } else {
            s.peers
                .iter()
                .find(|p| p.id == id)
                .map_or(0, |p| p.join_count)
        };
        if !member && joins == 0 {
            continue;
        }
        let ips: String = d
            .setup
            .addrs
            .iter()
            .filter(|((n, _), _)| *n == id)
            .map(|((_, l), a)| format!("r({l}) ip({}) ", a.ip()))
            .collect();
        v.push(e(
            format!("runtime.members.{id}.config_version"),
            "u64",
            d.setup.cfg.totem.config_version,
        ));
        v.push(e(format!("runtime.members.{id}.ip"), "str", ips));
        v.push(e(
            format!("runtime.members.{id}.join_count"),
            "u32",
            joins.max(1),
        ));
        v.push(e(
            format!("runtime.members.{id}.status"),
            "str",
            if member { "joined" } else { "left" },
        ));
    }
    let q = &s.quorum;
    let vq = "runtime.votequorum";
    v.push(e(format!("{vq}.this_node_id"), "u32", d.me()));
    v.push(e(format!("{vq}.two_node"), "u8", u8::from(q.two_node)));
    v.push(e(
        format!("{vq}.wait_for_all_status"),
        "u8",
        u8::from(q.wait_for_all_status),
    ));
    v.push(e(format!("{vq}.quorate"), "u8", u8::from(q.quorate)));
    v.push(e(format!("{vq}.expected_votes"), "u32", q.expected_votes));
    v.push(e(format!("{vq}.total_votes"), "u32", q.total_votes));
    v.push(e(format!("{vq}.quorum"), "u32", q.quorum));
    let ids: Vec<u32> = q.members.iter().map(|(id, _)| *id).collect();
    v.push(e(
        format!("{vq}.lowest_node_id"),
        "u32",
        ids.iter().min().copied().unwrap_or(0),
    ));
    v.push(e(
        format!("{vq}.highest_node_id"),
        "u32",
        ids.iter().max().copied().unwrap_or(0),
    ));
    let atb = match &d.setup.cfg.quorum.auto_tie_breaker_node {
        AtbNode::Lowest => 0,
        AtbNode::Highest => 1,
        AtbNode::List(_) => 2,
    };
    v.push(e(format!("{vq}.atb_type"), "u32", atb));
    let st = &s.stats;
    for (k, x) in [
        ("rx_packets", st.packets_in),
        ("tx_packets", st.packets_out),
        ("rx_rejected_auth", st.rejected_auth),
        ("rx_rejected_replay", st.rejected_replay),
        ("rx_rejected_size", st.rejected_size),
        ("rx_rejected_version", st.rejected_version),
        ("rx_rejected_unknown_sender", st.rejected_unknown_sender),
        ("rx_rejected_malformed", st.rejected_malformed),
        ("rx_dropped_unlisted", d.dropped_unlisted),
        ("tx_errors", d.send_errors),
        ("delivered", st.delivered),
        ("views_installed", st.views_installed),
        ("retransmits", st.retransmits),
    ] {
        v.push(e(format!("stats.srp.{k}"), "u64", x));
    }
}
