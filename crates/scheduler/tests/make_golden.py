#!/usr/bin/env python3
"""Writes the golden-test CIBs in tests/golden/ (the inputs; the expected reports are written
by `UPDATE_GOLDEN=1 cargo test -p tandem-scheduler --test golden` and reviewed by hand, and
their Transition Summaries were checked against Debian's crm_simulate where it applies).

Each case is a small cluster built from the helpers below; the comment on each says which
rule it exercises. Run from this directory: python3 make_golden.py
"""

EMPTY_DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"
AGENTS = {"ip": ("ocf", "heartbeat", "IPaddr2"), "web": ("ocf", "heartbeat", "apache"),
          "dummy": ("ocf", "pacemaker", "Dummy"), "fence": ("stonith", None, "fence_dummy")}


def agent(kind):
    cls, prov, typ = AGENTS[kind]
    p = f' provider="{prov}"' if prov else ""
    return f'class="{cls}"{p} type="{typ}"'


def meta(rid, pairs, tag="meta_attributes"):
    if not pairs:
        return ""
    nv = "".join(f'<nvpair id="{rid}-{tag}-{k}" name="{k}" value="{v}"/>' for k, v in pairs.items())
    return f'<{tag} id="{rid}-{tag}">{nv}</{tag}>'


def prim(rid, kind="dummy", m=None, monitor=True, params=None):
    ops = f'<operations><op id="{rid}-mon" name="monitor" interval="10s"/></operations>' if monitor and kind != "fence" else ""
    return f'<primitive id="{rid}" {agent(kind)}>{meta(rid, params, "instance_attributes")}{meta(rid, m)}{ops}</primitive>'


def group(gid, members, m=None):
    return f'<group id="{gid}">{meta(gid, m)}{"".join(members)}</group>'


def clone(cid, child, m=None):
    return f'<clone id="{cid}">{meta(cid, m)}{child}</clone>'


def op(rid, task, node, call, rc=0, interval=0, target=None, status=0):
    if target is None:
        target = 7 if (task == "monitor" and interval == 0) else 0
    key = f"{call}:1:{target}:golden"
    suffix = f"{task}_{interval}" if interval else "last_0"
    return (f'<lrm_rsc_op id="{rid}_{suffix}" operation_key="{rid}_{task}_{interval}" operation="{task}" '
            f'transition-key="{key}" transition-magic="{status}:{rc};{key}" call-id="{call}" rc-code="{rc}" '
            f'op-status="{status}" interval="{interval}" op-digest="{EMPTY_DIGEST}" on_node="{node}"/>')


def history(rid, kind, ops):
    cls, prov, typ = AGENTS[kind]
    p = f' provider="{prov}"' if prov else ""
    return f'<lrm_resource id="{rid}" class="{cls}"{p} type="{typ}">{"".join(ops)}</lrm_resource>'


def running(rid, kind, node, call=10):
    return history(rid, kind, [op(rid, "start", node, call)])


def stopped(rid, kind, node, call=1):
    return history(rid, kind, [op(rid, "monitor", node, call, rc=7)])


def state(nid, uname, up=True, expected="member", rscs=(), attrs=None, raw=None):
    flags = raw or ('in_ccm="true" crmd="online" join="member"' if up else 'in_ccm="false" crmd="offline" join="down"')
    t = ""
    if attrs:
        nv = "".join(f'<nvpair id="status-{nid}-{k}" name="{k}" value="{v}"/>' for k, v in attrs.items())
        t = f'<transient_attributes id="{nid}"><instance_attributes id="status-{nid}">{nv}</instance_attributes></transient_attributes>'
    return (f'<node_state id="{nid}" uname="{uname}" {flags} expected="{expected}">{t}'
            f'<lrm id="{nid}"><lrm_resources>{"".join(rscs)}</lrm_resources></lrm></node_state>')


def cib(name, comment, opts, nodes, resources, constraints="", states=(), quorum="1", extra=""):
    o = "".join(f'<nvpair id="opt-{k}" name="{k}" value="{v}"/>' for k, v in opts.items())
    n = "".join(f'<node id="{i + 1}" uname="{u}"/>' if not u.startswith('<') else u for i, u in enumerate(nodes))
    text = (f'<!-- {comment} -->\n'
            f'<cib crm_feature_set="3.19.0" validate-with="pacemaker-3.10" epoch="1" num_updates="0" '
            f'admin_epoch="0" have-quorum="{quorum}" dc-uuid="1">\n  <configuration>\n'
            f'    <crm_config><cluster_property_set id="cib-bootstrap-options">{o}</cluster_property_set></crm_config>\n'
            f'    <nodes>{n}</nodes>\n    <resources>{"".join(resources)}</resources>\n'
            f'    <constraints>{constraints}</constraints>{extra}\n  </configuration>\n'
            f'  <status>{"".join(states)}</status>\n</cib>\n')
    with open(f"golden/{name}.xml", "w") as f:
        f.write(text)


NOFENCE = {"fencing-enabled": "false"}
TWO = ["node1", "node2"]
THREE = ["node1", "node2", "node3"]
up = lambda i, n, *r, **k: state(i, n, True, rscs=r, **k)

# The tutorials' scenarios.
cib("group-follows-node-loss", "a group moves as one when its node is lost; the node is fenced first",
    {"no-quorum-policy": "stop"}, THREE,
    [prim("fence", "fence"), group("web-group", [prim("vip", "ip"), prim("web", "web")])], "",
    [state(1, "node1", False, rscs=[running("vip", "ip", "node1"), running("web", "web", "node1", 11)]),
     up(2, "node2", running("fence", "fence", "node2")), up(3, "node3")])
cib("clone-with-floating-ip", "a cloned web server and a floating IP colocated with (and started after) it",
    {}, TWO, [prim("fence", "fence"), prim("vip", "ip"), clone("web-clone", prim("web", "web"))],
    '<rsc_colocation id="vip-with-web" rsc="vip" with-rsc="web-clone" score="INFINITY"/>'
    '<rsc_order id="web-then-vip" first="web-clone" then="vip" kind="Mandatory"/>',
    [up(1, "node1"), up(2, "node2")])
cib("two-node-no-quorum-ignore", "two nodes, one down, no quorum: with no-quorum-policy=ignore resources still start",
    {**NOFENCE, "no-quorum-policy": "ignore"}, TWO, [prim("vip", "ip"), prim("web", "web")], "",
    [up(1, "node1", running("vip", "ip", "node1")), state(2, "node2", False, expected="down")], quorum="0")
cib("move-creates-preference", "crm resource move writes cli-prefer (INFINITY): the resource moves there",
    NOFENCE, TWO, [prim("vip", "ip")],
    '<rsc_location id="cli-prefer-vip" rsc="vip" node="node2" score="INFINITY"/>',
    [up(1, "node1", running("vip", "ip", "node1")), up(2, "node2", stopped("vip", "ip", "node2"))])
cib("stickiness-prevents-failback", "stickiness 100 outweighs a location preference of 50: no failback",
    NOFENCE, TWO, [prim("vip", "ip", {"resource-stickiness": "100"})],
    '<rsc_location id="prefer-node1" rsc="vip" node="node1" score="50"/>',
    [up(1, "node1", stopped("vip", "ip", "node1")), up(2, "node2", running("vip", "ip", "node2"))])

# Node states and quorum.
cib("quorum-stop", "no quorum and no-quorum-policy=stop: running resources stop, stopped ones may not start",
    {**NOFENCE, "no-quorum-policy": "stop"}, THREE, [prim("a"), prim("b")], "",
    [up(1, "node1", running("a", "dummy", "node1")), state(2, "node2", False, expected="down"),
     state(3, "node3", False, expected="down")], quorum="0")
cib("quorum-freeze", "no quorum and no-quorum-policy=freeze: running resources stay, nothing starts",
    {**NOFENCE, "no-quorum-policy": "freeze"}, THREE, [prim("a"), prim("b")], "",
    [up(1, "node1", running("a", "dummy", "node1")), state(2, "node2", False, expected="down"),
     state(3, "node3", False, expected="down")], quorum="0")
cib("standby-node", "a node in standby gives its resources away",
    NOFENCE, TWO, [prim("a")], "",
    [up(1, "node1", running("a", "dummy", "node1"), attrs={"standby": "on"}), up(2, "node2")])
cib("maintenance-node", "a node in maintenance: its resources are left alone, nothing new goes there",
    NOFENCE, TWO, [prim("a"), prim("b")], "",
    [up(1, "node1", running("a", "dummy", "node1"), attrs={"maintenance": "true"}), up(2, "node2")])
cib("unclean-without-device", "an unseen node is fenced; resources can wait for it",
    {}, TWO, [prim("fence", "fence"), prim("a")], "", [up(1, "node1")])

# Placement.
cib("location-rule-and-date", "a rule on a node attribute and an expired date rule",
    NOFENCE, THREE, [prim("a"), prim("b")],
    '<rsc_location id="a-on-ssd" rsc="a"><rule id="a-on-ssd-r" score="200"><expression id="a-on-ssd-e" attribute="disk" operation="eq" value="ssd"/></rule></rsc_location>'
    '<rsc_location id="b-until-2000" rsc="b"><rule id="b-r" score="INFINITY" boolean-op="and"><expression id="b-e" attribute="#uname" operation="eq" value="node1"/><date_expression id="b-d" operation="lt" end="2000-01-01"/></rule></rsc_location>',
    [up(1, "node1"), up(2, "node2", attrs={"disk": "ssd"}), up(3, "node3")])
cib("colocation-anti-and-finite", "a -INFINITY colocation keeps two resources apart; a finite one only prefers",
    NOFENCE, THREE, [prim("a"), prim("b"), prim("c")],
    '<rsc_location id="a-n1" rsc="a" node="node1" score="100"/>'
    '<rsc_colocation id="b-not-with-a" rsc="b" with-rsc="a" score="-INFINITY"/>'
    '<rsc_colocation id="c-likes-b" rsc="c" with-rsc="b" score="50"/>',
    [up(1, "node1"), up(2, "node2"), up(3, "node3")])
cib("order-mandatory-restart", "a failed primary recovers; what is ordered after it restarts",
    NOFENCE, TWO, [prim("db"), prim("app")],
    '<rsc_order id="db-then-app" first="db" then="app" kind="Mandatory"/>'
    '<rsc_colocation id="app-with-db" rsc="app" with-rsc="db" score="INFINITY"/>',
    [up(1, "node1", history("db", "dummy", [op("db", "start", "node1", 10), op("db", "monitor", "node1", 11, rc=7, interval=10000)]),
        running("app", "dummy", "node1", 12)), up(2, "node2")])
cib("priority-wins", "with room for one resource only, the higher priority one runs",
    {**NOFENCE, "placement-strategy": "utilization"},
    ['<node id="1" uname="node1"><utilization id="n1-u"><nvpair id="n1-u-cpu" name="cpu" value="2"/></utilization></node>'],
    [prim("low", m={"priority": "1"}).replace("</primitive>", '<utilization id="low-u"><nvpair id="low-u-cpu" name="cpu" value="2"/></utilization></primitive>'),
     prim("high", m={"priority": "10"}).replace("</primitive>", '<utilization id="high-u"><nvpair id="high-u-cpu" name="cpu" value="2"/></utilization></primitive>')],
    "", [up(1, "node1")])
cib("target-role-and-unmanaged", "target-role=Stopped stops a resource; an unmanaged one is left alone",
    NOFENCE, TWO, [prim("off", m={"target-role": "Stopped"}), prim("hands-off", m={"is-managed": "false"})],
    '<rsc_location id="ho-n2" rsc="hands-off" node="node2" score="INFINITY"/>',
    [up(1, "node1", running("off", "dummy", "node1"), running("hands-off", "dummy", "node1", 11)), up(2, "node2")])

# Failures.
cib("migration-threshold", "a resource whose fail count reached migration-threshold moves away",
    NOFENCE, TWO, [prim("a", m={"migration-threshold": "2"})], "",
    [up(1, "node1", running("a", "dummy", "node1"), attrs={"fail-count-a#monitor_10000": "2"}), up(2, "node2")])
cib("failure-timeout-expired", "failures older than failure-timeout no longer count",
    NOFENCE, TWO, [prim("a", m={"migration-threshold": "1", "failure-timeout": "60s"})], "",
    [up(1, "node1", running("a", "dummy", "node1"),
        attrs={"fail-count-a#monitor_10000": "1", "last-failure-a#monitor_10000": "1000"}), up(2, "node2")])
cib("start-failure-fatal", "a failed start bans the node (start-failure-is-fatal): recovery elsewhere",
    NOFENCE, TWO, [prim("a")], "",
    [up(1, "node1", history("a", "dummy", [op("a", "start", "node1", 10, rc=1)]), attrs={"fail-count-a#start_0": "INFINITY"}),
     up(2, "node2")])
cib("stop-failure-fences", "a failed stop with fencing enabled: the node is fenced, the resource recovered elsewhere",
    {}, TWO, [prim("fence", "fence"), prim("a")], "",
    [up(1, "node1", history("a", "dummy", [op("a", "start", "node1", 10), op("a", "stop", "node1", 11, rc=1)])),
     up(2, "node2", running("fence", "fence", "node2"))])
cib("on-fail-ignore", "a monitor failure with on-fail=ignore changes nothing",
    NOFENCE, TWO, ['<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"><operations><op id="a-mon" name="monitor" interval="10s" on-fail="ignore"/></operations></primitive>'], "",
    [up(1, "node1", history("a", "dummy", [op("a", "start", "node1", 10), op("a", "monitor", "node1", 11, rc=1, interval=10000)])), up(2, "node2")])
cib("multiply-active", "active on two nodes: stopped everywhere and started once",
    NOFENCE, TWO, [prim("a")], "",
    [up(1, "node1", running("a", "dummy", "node1")), up(2, "node2", running("a", "dummy", "node2"))])
cib("orphan-stopped", "a resource removed from the configuration but still running is stopped",
    NOFENCE, TWO, [prim("a")], "",
    [up(1, "node1", running("gone", "dummy", "node1")), up(2, "node2")])
cib("definition-change", "changed parameters: the resource restarts in place",
    NOFENCE, TWO, [prim("a", params={"state": "/run/a.state"})], "",
    [up(1, "node1", running("a", "dummy", "node1")), up(2, "node2")])
