//! Guarantee 6 and message integrity: nothing is delivered twice, nothing is delivered that
//! its claimed sender did not broadcast, and no forged or tampered packet is accepted.

use std::collections::BTreeMap;

use super::Violation;
use crate::history::{History, MsgKey};

pub fn check(h: &History) -> Vec<Violation> {
    let mut out = Vec::new();
    if h.forged_accepted > 0 {
        out.push(Violation {
            checker: "integrity",
            detail: format!(
                "{} forged or tampered packets were accepted",
                h.forged_accepted
            ),
        });
    }
    for (inc, dels) in &h.deliveries {
        let mut seen: BTreeMap<MsgKey, (tandem_totem::wire::RingId, u64)> = BTreeMap::new();
        for d in dels {
            if let Some((ring, seq)) = seen.insert(d.key, (d.ring, d.seq)) {
                out.push(Violation {
                    checker: "integrity",
                    detail: format!(
                        "node {} (boot {}) delivered {:?} twice: ring {ring} seq {seq} and ring {} seq {}",
                        inc.node, inc.boot, d.key, d.ring, d.seq
                    ),
                });
            }
            match h.broadcasts.get(&d.payload) {
                Some((sender, _, _)) if *sender == d.key.0 => {}
                other => out.push(Violation {
                    checker: "integrity",
                    detail: format!(
                        "node {} delivered {:?} from {} that was not broadcast by it ({:?})",
                        inc.node,
                        String::from_utf8_lossy(&d.payload),
                        d.key.0,
                        other.map(|o| o.0)
                    ),
                }),
            }
        }
    }
    out
}
