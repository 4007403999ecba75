//! Where resources run, read from a CIB (its status section) the way the scheduler reads
//! it — so tests and the sandbox judge "running" exactly as the cluster does.

use std::collections::BTreeMap;

use tandem_cib::{Cib, DateTime};

/// What the status section says about the resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Configured resource id (clone instances merged) → the nodes it is active on, sorted.
    pub running_on: BTreeMap<String, Vec<String>>,
    /// Configured ids of primitives whose history holds a failure.
    pub failed: Vec<String>,
    /// Online nodes, and which of them are in standby.
    pub online: Vec<String>,
    pub standby: Vec<String>,
}

impl Placement {
    /// The nodes `rsc` is active on (empty when stopped or unknown).
    pub fn nodes(&self, rsc: &str) -> &[String] {
        self.running_on.get(rsc).map_or(&[], Vec::as_slice)
    }

    /// The one node `rsc` is active on, if exactly one.
    pub fn node(&self, rsc: &str) -> Option<&str> {
        match self.nodes(rsc) {
            [one] => Some(one.as_str()),
            _ => None,
        }
    }
}

/// Reads the placement from CIB XML at `now_epoch` (seconds; failure timeouts count from it).
pub fn placement(cib_xml: &str, now_epoch: i64) -> anyhow::Result<Placement> {
    let cib = Cib::parse(cib_xml).map_err(|e| anyhow::anyhow!("the CIB does not load: {e}"))?;
    let t = tandem_scheduler::schedule(&cib, DateTime::from_epoch(now_epoch));
    let w = &t.world;
    let mut out = Placement::default();
    for r in w.rscs.iter().filter(|r| r.is_primitive()) {
        let nodes = out.running_on.entry(r.base_id.clone()).or_default();
        nodes.extend(r.running_on.iter().map(|&n| w.nodes[n].uname.clone()));
        nodes.sort();
        nodes.dedup();
        if r.failed && !out.failed.contains(&r.base_id) {
            out.failed.push(r.base_id.clone());
        }
    }
    out.failed.sort();
    for n in &w.nodes {
        if n.online {
            out.online.push(n.uname.clone());
            if n.standby {
                out.standby.push(n.uname.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_is_read_from_history() {
        let xml = r#"<cib admin_epoch="0" epoch="3" num_updates="1" have-quorum="1"><configuration>
          <crm_config><cluster_property_set id="o">
            <nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
          <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
          <resources><primitive id="d" class="ocf" provider="tandem" type="Dummy"/></resources>
          <constraints/></configuration>
          <status>
            <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member"/>
            <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member">
              <lrm id="2"><lrm_resources><lrm_resource id="d" class="ocf" provider="tandem" type="Dummy">
                <lrm_rsc_op id="d_last_0" operation_key="d_start_0" operation="start" call-id="3"
                  rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x" on_node="node2"/>
              </lrm_resource></lrm_resources></lrm>
            </node_state>
          </status></cib>"#;
        let p = placement(xml, 0).unwrap();
        assert_eq!(p.node("d"), Some("node2"));
        assert_eq!(p.online, vec!["node1", "node2"]);
        assert!(p.failed.is_empty());
    }
}
