//! The cluster's shared secret, as `corosync-keygen` writes it: 128–4096 random bytes.

/// Shortest key accepted (corosync's minimum, 1024 bits).
pub const MIN_AUTHKEY_BYTES: usize = 128;
/// Longest key accepted (corosync's maximum, 32768 bits).
pub const MAX_AUTHKEY_BYTES: usize = 4096;
/// What `tandem keygen` writes by default (corosync-keygen's 2048 bits).
pub const DEFAULT_AUTHKEY_BYTES: usize = 256;

/// A validated authkey. Nothing about it is ever logged or displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(Vec<u8>);

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthKey({} bytes)", self.0.len())
    }
}

/// Why a key file was refused; nothing was loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthKeyError {
    #[error(
        "authkey {source_name} is {len} bytes; it must be {MIN_AUTHKEY_BYTES} to {MAX_AUTHKEY_BYTES} random bytes (create one with `tandem keygen`)"
    )]
    Length { source_name: String, len: usize },
    #[error(
        "authkey {source_name} is corrupt: all {len} bytes are 0x{byte:02x}, not random data (create one with `tandem keygen`)"
    )]
    NotRandom {
        source_name: String,
        len: usize,
        byte: u8,
    },
}

impl AuthKey {
    /// Checks a key read from `source_name` (a path, for messages).
    pub fn from_bytes(bytes: Vec<u8>, source_name: &str) -> Result<AuthKey, AuthKeyError> {
        let len = bytes.len();
        if !(MIN_AUTHKEY_BYTES..=MAX_AUTHKEY_BYTES).contains(&len) {
            return Err(AuthKeyError::Length {
                source_name: source_name.to_string(),
                len,
            });
        }
        // A file of one repeated byte (zeroed, or truncated-then-padded) is never a real key.
        if bytes.iter().all(|b| *b == bytes[0]) {
            return Err(AuthKeyError::NotRandom {
                source_name: source_name.to_string(),
                len,
                byte: bytes[0],
            });
        }
        Ok(AuthKey(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_corruption() {
        let e = AuthKey::from_bytes(vec![7; 64], "/etc/tandem/authkey").unwrap_err();
        assert_eq!(
            e.to_string(),
            "authkey /etc/tandem/authkey is 64 bytes; it must be 128 to 4096 random bytes (create one with `tandem keygen`)"
        );
        assert!(matches!(
            AuthKey::from_bytes(vec![1; 4097], "k"),
            Err(AuthKeyError::Length { len: 4097, .. })
        ));
        let e = AuthKey::from_bytes(vec![0; 256], "k").unwrap_err();
        assert_eq!(
            e.to_string(),
            "authkey k is corrupt: all 256 bytes are 0x00, not random data (create one with `tandem keygen`)"
        );
        let good: Vec<u8> = (0..128u32).map(|i| (i * 7) as u8).collect();
        let k = AuthKey::from_bytes(good, "k").unwrap();
        assert_eq!(format!("{k:?}"), "AuthKey(128 bytes)");
    }
}
