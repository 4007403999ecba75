#!/usr/bin/env python3
"""Cluster-layer benchmarks with real `tandem daemon` processes on 127.0.0.1-3.

  bench/cluster.py formation [--runs N]   start 3 daemons, time until all 3 report one
                                           quorate view of 3 (the 1-second goal)
  bench/cluster.py failover  [--runs N]   kill -9 one daemon, time until both survivors
                                           installed a view without it; prints the
                                           distribution against effective token + consensus
  bench/cluster.py throughput             ordered broadcast on 3 nodes, like cpgbench:
                                           msgs/s, MB/s and latency per message size

Options: --tandem PATH (default target/release/tandem), --token MS (default: corosync.conf
without `token`, i.e. Corosync's 3000 ms default), --port P (default 25405).
Status is read over each daemon's IPC socket every 2 ms. Every daemon is killed at exit.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

def ipc(run_dir, request, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.path.join(run_dir, "tandem.sock"))
    s.sendall((json.dumps({"version": 1, "request": request}) + "\n").encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)["response"]

class Cluster:
    def __init__(self, tandem, n, port, token):
        self.tandem, self.n = tandem, n
        self.dir = tempfile.mkdtemp(prefix="tandem-bench-")
        totem = f" cluster_name: bench\n interface {{\n  linknumber: 0\n  mcastport: {port}\n }}\n"
        if token:
            totem += f" token: {token}\n"
        conf = f"totem {{\n version: 2\n{totem}}}\nquorum {{\n provider: corosync_votequorum\n}}\nnodelist {{\n"
        for i in range(1, n + 1):
            conf += f" node {{\n  ring0_addr: 127.0.0.{i}\n  nodeid: {i}\n }}\n"
        conf += "}\n"
        with open(os.path.join(self.dir, "corosync.conf"), "w") as f:
            f.write(conf)
        subprocess.run([tandem, "keygen", "-k", os.path.join(self.dir, "authkey")], check=True,
                       stdout=subprocess.DEVNULL, timeout=10)
        self.procs = {}

    def run_dir(self, i):
        return os.path.join(self.dir, f"n{i}", "run")

    def start(self, i):
        log = open(os.path.join(self.dir, f"n{i}.log"), "a")
        self.procs[i] = subprocess.Popen(
            [self.tandem, "--run-dir", self.run_dir(i), "daemon", "--config", os.path.join(self.dir, "corosync.conf"),
             "--authkey", os.path.join(self.dir, "authkey"), "--state-dir", os.path.join(self.dir, f"n{i}", "state"),
             "--node-id", str(i)], stdout=subprocess.DEVNULL, stderr=log)

    def kill9(self, i):
        p = self.procs.pop(i)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)

    def status(self, i):
        try:
            r = ipc(self.run_dir(i), {"type": "status"}, timeout=1.0)
            return r if r.get("type") == "status" else None
        except (OSError, ValueError):
            return None

    def members(self, i):
        s = self.status(i)
        return None if s is None or s["forming"] else [m["id"] for m in s["members"]]

    def wait(self, cond, limit=60.0):
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            if cond():
                return time.monotonic() - t0
            time.sleep(0.002)
        raise SystemExit(f"timed out; logs in {self.dir}")

    def close(self):
        for p in self.procs.values():
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

def dist(name, xs, unit="ms"):
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]
    print(f"{name}: n={len(xs)} min={xs[0]:.0f} median={statistics.median(xs):.0f} "
          f"p90={q(0.9):.0f} max={xs[-1]:.0f} {unit}")

def timing(c):
    keys = {}
    for e in ipc(c.run_dir(1), {"type": "cmap", "prefix": "runtime.config.totem."})["entries"]:
        keys[e["key"].rsplit(".", 1)[1]] = int(e["value"])
    return keys["token"], keys["consensus"]

def formation(a):
    times = []
    for run in range(a.runs):
        c = Cluster(a.tandem, 3, a.port, a.token)
        try:
            t0 = time.monotonic()
            for i in (1, 2, 3):
                c.start(i)
            c.wait(lambda: all(c.members(i) == [1, 2, 3] and c.status(i)["quorum"]["quorate"] for i in (1, 2, 3)))
            times.append((time.monotonic() - t0) * 1000)
        finally:
            c.close()
    dist("formation of one quorate view of 3 daemons from process start", times)

def failover(a):
    c = Cluster(a.tandem, 3, a.port, a.token)
    times = []
    try:
        for i in (1, 2, 3):
            c.start(i)
        c.wait(lambda: all(c.members(i) == [1, 2, 3] for i in (1, 2, 3)))
        token, consensus = timing(c)
        for run in range(a.runs):
            victim = (run % 3) + 1
            others = [i for i in (1, 2, 3) if i != victim]
            t0 = time.monotonic()
            c.kill9(victim)
            c.wait(lambda: all(c.members(i) == others for i in others))
            times.append((time.monotonic() - t0) * 1000)
            c.start(victim)
            c.wait(lambda: all(c.members(i) == [1, 2, 3] for i in (1, 2, 3)))
        bound = token + consensus + 100
        dist(f"kill -9 to new view on both survivors (effective token {token} + consensus {consensus} + 100 = {bound} ms)", times)
        print(f"within bound: {sum(t <= bound for t in times)}/{len(times)}")
    finally:
        c.close()

def throughput(a):
    c = Cluster(a.tandem, 3, a.port, a.token)
    try:
        for i in (1, 2, 3):
            c.start(i)
        c.wait(lambda: all(c.members(i) == [1, 2, 3] for i in (1, 2, 3)))
        print("size  sender      msgs   seconds    msgs/s     MB/s   p50 us   p99 us   max us")
        for size in (64, 1024, 8192, 32768):
            for sender, label in ((1, "sequencer"), (2, "member")):
                count = 20000 if size <= 1024 else 5000
                r = ipc(c.run_dir(sender), {"type": "bench", "count": count, "size": size, "window": 64}, timeout=600)
                if r.get("type") != "bench":
                    raise SystemExit(f"bench failed: {r}")
                s = r["seconds"]
                print(f"{size:>5} {label:<9} {r['messages']:>7} {s:>9.2f} {r['messages']/s:>9.0f} "
                      f"{r['bytes']/s/1e6:>8.1f} {r['latency_us_p50']:>8} {r['latency_us_p99']:>8} {r['latency_us_max']:>8}")
    finally:
        c.close()

def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["formation", "failover", "throughput"])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--tandem", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "tandem"))
    p.add_argument("--token", type=int, default=None)
    p.add_argument("--port", type=int, default=25405)
    a = p.parse_args()
    {"formation": formation, "failover": failover, "throughput": throughput}[a.what](a)

if __name__ == "__main__":
    main()
