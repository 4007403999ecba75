//! Any datagram, however malformed, fed to a node: it must never panic. Covers the sealed
//! header parser and replay window, the postcard message decoder (on bodies that are
//! authentic, via a sealer with the node's key), and the state machine behind them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_totem::authkey::AuthKey;
use tandem_totem::config::ClusterConfig;
use tandem_totem::seal::Sealer;
use tandem_totem::wire::Message;
use tandem_totem::{Input, Params, Totem};

fuzz_target!(|data: &[u8]| {
    let _ = Message::decode(data);
    let cfg = ClusterConfig::from_text(
        "f.conf",
        "nodelist {\n node {\n nodeid: 1\n ring0_addr: 127.0.0.1\n }\n node {\n nodeid: 2\n ring0_addr: 127.0.0.2\n }\n}\n",
    )
    .expect("fixed config");
    let key = AuthKey::from_bytes((0..128).collect(), "k").expect("fixed key");
    let mut t = Totem::new(Params::from_config(&cfg, 1, 1, key.clone(), 0).expect("node 1"));
    t.handle(0, Input::Start);
    // Raw: as it came off the wire.
    t.handle(1, Input::Packet { link: 0, bytes: data.to_vec() });
    // Authentic: the same bytes as the body of a packet from node 2.
    let mut s = Sealer::new(&key, "tandem", 2, 7);
    t.handle(2, Input::Packet { link: 0, bytes: s.seal(data) });
});
