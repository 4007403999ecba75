//! The shape of one whole-node run, drawn from its seed, and the configuration the
//! simulated cluster starts with.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Test-only switches that break one rule on purpose, to show a checker catches it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Broken {
    /// The simulated daemon writes the CIB to disk only every other time the node asks
    /// ([`tandem_node::Output::PersistCib`]) — the daemon's half of crash safety broken.
    pub lazy_persist: bool,
}

/// One run's parameters.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub nodes: usize,
    pub token_ms: u64,
    /// Faults happen during `0..chaos_ms`; then the calm phase lets everything settle.
    pub chaos_ms: u64,
    pub loss: f64,
    pub dup: f64,
    pub max_delay_us: u64,
    pub partitions: u32,
    pub crashes: u32,
    /// `stonith-enabled` (with a simulated fence device and fencer).
    pub fencing: bool,
    /// Primitives (besides the fence device).
    pub resources: usize,
    /// Resources that die behind the cluster's back (a monitor finds them stopped).
    pub rsc_deaths: u32,
    /// Probability that a start fails.
    pub start_failure: f64,
    /// Mean gap between client requests (configuration commits, attribute updates).
    pub request_every_ms: u64,
    pub broken: Broken,
}

impl Scenario {
    /// A random scenario; every fault kind appears across seeds.
    pub fn random(rng: &mut ChaCha8Rng) -> Scenario {
        Scenario {
            nodes: rng.random_range(2..=5),
            token_ms: [300, 1000][rng.random_range(0..2)],
            chaos_ms: rng.random_range(5_000..15_000),
            loss: [0.0, 0.01, 0.05, 0.2][rng.random_range(0..4)],
            dup: [0.0, 0.02, 0.1][rng.random_range(0..3)],
            max_delay_us: [200, 2_000, 20_000][rng.random_range(0..3)],
            partitions: rng.random_range(0..=2),
            crashes: rng.random_range(0..=2),
            fencing: rng.random_bool(0.75),
            resources: rng.random_range(1..=4),
            rsc_deaths: rng.random_range(0..=3),
            start_failure: [0.0, 0.05, 0.2][rng.random_range(0..3)],
            request_every_ms: [100, 400, 1500][rng.random_range(0..3)],
            broken: Broken::default(),
        }
    }

    /// The corosync.conf of the simulated cluster (nodes `n1`..`nN`).
    pub fn corosync_conf(&self) -> String {
        let mut s = format!(
            "totem {{\n version: 2\n cluster_name: sim\n token: {}\n}}\nquorum {{\n provider: corosync_votequorum\n}}\nnodelist {{\n",
            self.token_ms
        );
        for i in 1..=self.nodes {
            s.push_str(&format!(
                " node {{\n  nodeid: {i}\n  name: n{i}\n  ring0_addr: 127.0.0.{i}\n }}\n"
            ));
        }
        s.push_str("}\n");
        s
    }

    /// Ids of the simulated primitives (`r1`..), the fence device excluded.
    pub fn resource_ids(&self) -> Vec<String> {
        (1..=self.resources).map(|i| format!("r{i}")).collect()
    }

    /// The CIB every node's disk holds at the start (as if the administrator had put it
    /// there): the cluster options, the fence device when fencing is on, the primitives with
    /// a 10 s monitor and a `target-role` the client stream toggles, and an empty set for
    /// the markers client commits add.
    pub fn initial_cib(&self) -> String {
        let mut rscs = String::new();
        if self.fencing {
            rscs.push_str(
                r#"<primitive id="fence-sim" class="stonith" type="fence_sim"><operations><op id="fence-sim-mon" name="monitor" interval="60s" timeout="20s"/></operations></primitive>"#,
            );
        }
        for id in self.resource_ids() {
            rscs.push_str(&format!(
                r#"<primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="{id}-meta"><nvpair id="{id}-meta-target-role" name="target-role" value="Started"/></meta_attributes><operations><op id="{id}-mon" name="monitor" interval="10s" timeout="20s"/></operations></primitive>"#
            ));
        }
        format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.9"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-stonith" name="stonith-enabled" value="{}"/></cluster_property_set><cluster_property_set id="sim-marks"/></crm_config><nodes/><resources>{rscs}</resources><constraints/></configuration><status/></cib>"#,
            self.fencing
        )
    }
}
