#!/usr/bin/env python3
"""Cluster-manager benchmarks: 3 real `tandem daemon` processes on 127.0.0.1-3 running one
`ocf:tandem:process` web server resource (`tandem sandbox serve`, answering with its node's
name), as `tandem sandbox` and the end-to-end tests set it up.

  bench/node.py [--runs N] [--tandem PATH] [--token MS] [--monitor S] [--debug] [--keep]

Per run, on a fresh cluster:
  start     time from spawning the 3 daemons to the web server answering over HTTP
            (formation + DC election + configuration commit + probes + start)
  standby   `tandem node standby <active>` to the web server answering from another node
  kill -9   SIGKILL of every process of the node now running it (daemon, agents, web
            server: a power loss) to the web server answering from a survivor
Then, on the last cluster, idle: RSS (VmRSS) and CPU (utime+stime over --idle seconds)
of each daemon from /proc.

"Answering" is polled every 5 ms with an HTTP GET to 127.0.0.1:PORT; which node answers
is read from the body. The configuration is loaded with `tandem configure load update`.
Everything is killed and removed at exit.
"""
import argparse, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

POLL = 0.005
# Before standby and kill -9: let the cluster finish what it is doing (the start of the
# web server is still settling when it first answers; its monitor starts after), so both
# measure a move out of a steady state.
STEADY = 1.0

def http_get(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.settimeout(0.5)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.split(b"\r\n\r\n", 1)[1].decode()
    except (OSError, IndexError):
        return None

def free_port(kind, start):
    for p in range(start, start + 2000):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            pass
        finally:
            s.close()
    raise SystemExit("no free port")

class Cluster:
    def __init__(self, tandem, n, token, monitor, debug=False):
        self.tandem, self.n = os.path.abspath(tandem), n
        self.dir = tempfile.mkdtemp(prefix="tandem-bench-node-")
        self.port = free_port(socket.SOCK_DGRAM, 27405)
        self.http = free_port(socket.SOCK_STREAM, 28080)
        token_line = f" token: {token}\n" if token else ""
        conf = (f"totem {{\n version: 2\n cluster_name: benchnode\n{token_line}"
                f" interface {{\n  linknumber: 0\n  mcastport: {self.port}\n }}\n}}\n"
                "quorum {\n provider: corosync_votequorum\n}\nnodelist {\n")
        for i in range(1, n + 1):
            conf += f" node {{\n  ring0_addr: 127.0.0.{i}\n  name: node{i}\n  nodeid: {i}\n }}\n"
        conf += "}\nlogging {\n to_stderr: yes\n timestamp: hires\n" + (" debug: on\n" if debug else "") + "}\n"
        with open(self.path("corosync.conf"), "w") as f:
            f.write(conf)
        self.run([self.tandem, "keygen", "-k", self.path("authkey")])
        self.run([self.tandem, "ra", "install", "--ocf-root", self.path("ocf")])
        self.config = (
            "property stonith-enabled=false\n"
            "rsc_defaults resource-stickiness=100\n"
            f"primitive WebServer ocf:tandem:process params binfile=\"{self.tandem}\" "
            f"cmdline_options=\"sandbox serve --listen 127.0.0.1:{self.http}\" "
            f"op monitor interval={monitor}s timeout=20s\n")
        self.procs = {}

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def run(self, args, node=1):
        env = dict(os.environ, TANDEM_RUN_DIR=self.path(f"node{node}", "run"), OCF_ROOT=self.path("ocf"))
        env.pop("CIB_file", None)
        r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {r.stderr}{r.stdout}\nlogs in {self.dir}")
        return r.stdout

    def start(self, i):
        for d in ("state", "run", "rsctmp"):
            os.makedirs(self.path(f"node{i}", d), exist_ok=True)
        env = dict(os.environ, OCF_ROOT=self.path("ocf"), HA_RSCTMP=self.path(f"node{i}", "rsctmp"),
                   TANDEM_SANDBOX=self.dir, TANDEM_SANDBOX_NODE=f"node{i}")
        env.pop("CIB_file", None)
        env.pop("TANDEM_RUN_DIR", None)
        log = open(self.path(f"node{i}", "daemon.log"), "a")
        self.procs[i] = subprocess.Popen(
            [self.tandem, "--run-dir", self.path(f"node{i}", "run"), "daemon",
             "--config", self.path("corosync.conf"), "--authkey", self.path("authkey"),
             "--state-dir", self.path(f"node{i}", "state"), "--node-id", str(i)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def marked(self, node=None):
        """Pids whose environment marks them as this cluster's (and node's)."""
        want = f"TANDEM_SANDBOX={self.dir}".encode()
        want_node = f"TANDEM_SANDBOX_NODE={node}".encode() if node else None
        out = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if want in env and (want_node is None or want_node in env):
                out.append(int(pid))
        return out

    def crash(self, node):
        """Power loss of `node`: SIGKILL to all its processes, its /run (rsctmp) emptied."""
        i = int(node[4:])
        for pid in self.marked(node):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.procs.pop(i).wait(timeout=10)
        shutil.rmtree(self.path(node, "rsctmp"), ignore_errors=True)

    def answering(self, other_than=None, limit=120.0):
        """Seconds until the web server answers (from a node other than `other_than`); the node."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            body = http_get(self.http)
            if body and (other_than is None or other_than not in body):
                return time.monotonic() - t0, body.split()[2]
            time.sleep(POLL)
        raise SystemExit(f"timed out waiting for the web server; logs in {self.dir}")

    def close(self, keep=False):
        for p in self.procs.values():
            p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for pid in self.marked():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if keep:
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def dist(name, xs):
    xs = sorted(x * 1000 for x in xs)
    print(f"{name:<46} n={len(xs)} min={xs[0]:.0f} median={statistics.median(xs):.0f} max={xs[-1]:.0f} ms")

def one_run(a):
    c = Cluster(a.tandem, 3, a.token, a.monitor, a.debug)
    t0 = time.monotonic()
    for i in (1, 2, 3):
        c.start(i)
    # The configuration can only be committed once the cluster answers; retry until then.
    crm = c.path("bench.crm")
    with open(crm, "w") as f:
        f.write(c.config)
    while True:
        env = dict(os.environ, TANDEM_RUN_DIR=c.path("node1", "run"))
        env.pop("CIB_file", None)
        r = subprocess.run([c.tandem, "configure", "load", "update", crm], env=env,
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            break
        if time.monotonic() - t0 > 120:
            raise SystemExit(f"cannot load the configuration: {r.stderr}; logs in {c.dir}")
        time.sleep(0.05)
    _, on = c.answering(limit=120)
    start = time.monotonic() - t0
    time.sleep(STEADY)
    t1 = time.monotonic()
    subprocess.run([c.tandem, "--run-dir", c.path("node1", "run"), "node", "standby", on],
                   check=True, capture_output=True, timeout=60)
    standby, on2 = c.answering(other_than=on)
    standby = time.monotonic() - t1
    time.sleep(STEADY)
    t2 = time.monotonic()
    c.crash(on2)
    kill, on3 = c.answering(other_than=on2)
    kill = time.monotonic() - t2
    return c, start, standby, kill

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--tandem", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "tandem"))
    p.add_argument("--token", type=int, default=0,
                   help="token in corosync.conf (ms); 0 (default): no token line, Tandem's default")
    p.add_argument("--debug", action="store_true", help="debug logging in the daemons")
    p.add_argument("--keep", action="store_true", help="keep the last cluster's directory (logs)")
    p.add_argument("--monitor", type=int, default=10)
    p.add_argument("--idle", type=float, default=30.0)
    a = p.parse_args()
    starts, standbys, kills = [], [], []
    for run in range(a.runs):
        c, s, sb, k = one_run(a)
        starts.append(s); standbys.append(sb); kills.append(k)
        print(f"run {run + 1}: start {s*1000:.0f} ms, standby {sb*1000:.0f} ms, kill -9 {k*1000:.0f} ms", flush=True)
        if run < a.runs - 1:
            c.close()
    dist("daemons started -> resource answering", starts)
    dist("node standby -> answering elsewhere", standbys)
    dist("kill -9 of active node -> answering elsewhere", kills)
    try:
        hz = os.sysconf("SC_CLK_TCK")
        for i in (1, 2, 3):
            if i not in c.procs:
                c.start(i)  # the crashed node rejoins: all three are measured
        time.sleep(10)  # let the rejoin and its probes settle
        pids = {i: p.pid for i, p in c.procs.items()}
        before = {i: cpu_ticks(pid) for i, pid in pids.items()}
        t = time.monotonic()
        time.sleep(a.idle)
        wall = time.monotonic() - t
        for i, pid in sorted(pids.items()):
            cpu = (cpu_ticks(pid) - before[i]) / hz / wall * 100
            print(f"node{i} daemon: RSS {rss_kib(pid)/1024:.1f} MiB, idle CPU {cpu:.2f} % of a core "
                  f"(over {wall:.0f} s)")
    finally:
        c.close(keep=a.keep)

if __name__ == "__main__":
    main()
