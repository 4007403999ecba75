#!/usr/bin/env python3
"""Latency of acknowledged CIB changes on 3 real `tandem daemon` processes (127.0.0.1-3),
as clients see it: the time from writing the request on a daemon's IPC socket to reading
its answer, which the daemon gives once the change was delivered, applied, persisted and
is safe (every member has it).

  bench/commit.py [--count N] [--tandem PATH] [--token MS (default: none, Tandem's)]

Per node (node1 is the ring's representative, which orders messages; the others send
their changes to it first), N of each:
  attr_update  a transient node attribute set (status only)
  cib_commit   a configuration commit (cluster-name property changed; the base version is
               read first, untimed; a commit refused because the DC wrote meanwhile is
               retried and not counted)
The cluster is the one bench/node.py starts (same configuration, no resource started
before measuring); everything is killed and removed at exit.
"""
import argparse, importlib.util, json, os, socket, statistics, sys, time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_node", os.path.join(HERE, "node.py"))
bench_node = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_node)

IPC_VERSION = 1
FORM_LIMIT = 120.0


def call(run_dir, request, timeout=30.0):
    """One IPC request; (seconds from send to answer, response dict)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(os.path.join(run_dir, "tandem.sock"))
        line = json.dumps({"version": IPC_VERSION, "request": request}) + "\n"
        t0 = time.monotonic()
        s.sendall(line.encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        dt = time.monotonic() - t0
    return dt, json.loads(data)["response"]


def wait_formed(c):
    t0 = time.monotonic()
    while time.monotonic() - t0 < FORM_LIMIT:
        ok = 0
        for i in (1, 2, 3):
            try:
                _, r = call(c.path(f"node{i}", "run"), {"type": "cluster_status"})
            except OSError:
                continue
            if r.get("type") == "cluster" and r["quorate"] and len(r["members"]) == 3 and r["dc"]:
                ok += 1
        if ok == 3:
            return time.monotonic() - t0
        time.sleep(0.1)
    raise SystemExit(f"the cluster did not form; logs in {c.dir}")


def commit_request(run_dir, counter):
    """A cib_commit request changing cluster-name, based on the live CIB."""
    _, r = call(run_dir, {"type": "cib_query"})
    root = ET.fromstring(r["xml"])
    conf = root.find("configuration")
    crm = conf.find("crm_config")
    if crm is None:
        crm = ET.SubElement(conf, "crm_config")
    props = crm.find("cluster_property_set[@id='cib-bootstrap-options']")
    if props is None:
        props = ET.SubElement(crm, "cluster_property_set", id="cib-bootstrap-options")
    nv = props.find("nvpair[@name='cluster-name']")
    if nv is None:
        nv = ET.SubElement(props, "nvpair", id="cib-bootstrap-options-cluster-name",
                           name="cluster-name")
    nv.set("value", f"bench{counter}")
    return {"type": "cib_commit", "base_admin_epoch": int(root.get("admin_epoch", "0")),
            "base_epoch": int(root.get("epoch", "0")),
            "configuration": ET.tostring(conf, encoding="unicode")}


def dist(name, xs):
    xs = sorted(x * 1000 for x in xs)
    p90 = xs[min(len(xs) - 1, int(len(xs) * 0.9))]
    print(f"{name:<26} n={len(xs):<4} min={xs[0]:6.2f} median={statistics.median(xs):6.2f} "
          f"p90={p90:6.2f} max={xs[-1]:6.2f} ms", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--tandem", default=os.path.join(HERE, "..", "target", "release", "tandem"))
    p.add_argument("--token", type=int, default=0,
                   help="token in corosync.conf (ms); 0 (default): Tandem's default")
    a = p.parse_args()
    c = bench_node.Cluster(a.tandem, 3, a.token, 10)
    try:
        for i in (1, 2, 3):
            c.start(i)
        print(f"formed in {wait_formed(c):.1f} s", flush=True)
        time.sleep(3)  # the DC's first writes (membership, dc-version) settle
        counter = 0
        for i in (1, 2, 3):
            run = c.path(f"node{i}", "run")
            attrs, commits, retried = [], [], 0
            for k in range(a.count):
                dt, r = call(run, {"type": "attr_update", "node": f"node{i}",
                                   "name": "bench-attr", "value": str(k)})
                if r.get("type") != "done":
                    raise SystemExit(f"attr_update on node{i}: {r}; logs in {c.dir}")
                attrs.append(dt)
            while len(commits) < a.count:
                counter += 1
                dt, r = call(run, commit_request(run, counter))
                if r.get("type") == "committed":
                    commits.append(dt)
                elif "changed since it was read" in r.get("message", ""):
                    retried += 1
                else:
                    raise SystemExit(f"cib_commit on node{i}: {r}; logs in {c.dir}")
            dist(f"node{i} attr_update", attrs)
            dist(f"node{i} cib_commit", commits)
            if retried:
                print(f"  ({retried} commits refused as stale and retried)")
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
