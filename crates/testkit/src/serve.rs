//! A tiny HTTP responder, the sandbox's web server (`tandem sandbox serve`, run by the
//! `ocf:tandem:process` agent): every request gets `200 OK` and one line naming the node it
//! runs on — what a user watching a failover wants to see. It serves one connection at a
//! time with short timeouts, reads at most a bounded request head, and never touches files.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::Context;

use crate::NODE_VAR;

/// The longest request head read (the rest is ignored).
pub const MAX_REQUEST_HEAD: usize = 8192;

/// How long a client may take to send its request or receive the answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// The body served: `Hello from node2 (Tandem sandbox)`.
pub fn body() -> String {
    let node = std::env::var(NODE_VAR).unwrap_or_else(|_| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "an unknown node".into())
    });
    format!("Hello from {node} (Tandem sandbox)\n")
}

/// Serves forever on `listen` (until killed).
pub fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let body = body();
    // A failed accept or a misbehaving client affects only that connection.
    for stream in listener.incoming().flatten() {
        let _ = answer(stream, &body);
    }
    Ok(())
}

fn answer(mut s: TcpStream, body: &str) -> std::io::Result<()> {
    s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    s.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while head.len() < MAX_REQUEST_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head_only = head.starts_with(b"HEAD ");
    let mut reply = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        reply.push_str(body);
    }
    s.write_all(reply.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_the_body() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            answer(s, "Hello from node9 (Tandem sandbox)\n").unwrap();
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        t.join().unwrap();
        assert_eq!(
            out,
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 34\r\nConnection: close\r\n\r\nHello from node9 (Tandem sandbox)\n"
        );
    }
}
