//! Outbound TCP: which `host:port` endpoints a function may connect to.
//!
//! Some services speak no HTTP: an SMTP relay, a Redis, a database. A function may be granted
//! plain TCP connections to listed endpoints ([`TcpAllowList`]) and it then reaches them through
//! `wasi:sockets` (in Rust, `std::net::TcpStream`). Nothing is granted by default, and a grant
//! is narrow:
//!
//! - A connection may go only to an address that a granted endpoint names, on that endpoint's
//!   port. A host name in a grant is resolved by the host when the guest connects, so a grant of
//!   `smtp.internal:25` follows the name's DNS records, and connecting to any other address fails
//!   with `access-denied` before the host opens anything.
//! - The socket may be bound only implicitly, by `connect`, to a wildcard local address: a guest
//!   can neither listen nor accept, so it never serves.
//! - UDP stays off. Name lookups are allowed only for a function with a TCP grant, because the
//!   guest's own resolver is how `TcpStream::connect("smtp.internal:25")` finds the address it
//!   then asks to connect to.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use wasmtime_wasi::sockets::SocketAddrUse;

/// A host and port that a function may open TCP connections to, written `host:port`
/// (`[::1]:25` for an IPv6 address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcpEndpoint {
    host: Host,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Host {
    Address(IpAddr),
    /// Lowercase, as DNS compares names.
    Name(String),
}

/// Why a text is not a TCP endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a TCP endpoint (host:port, such as smtp.example.com:25 or [::1]:2525): {reason}")]
pub struct InvalidTcpEndpoint {
    text: String,
    reason: &'static str,
}

impl TcpEndpoint {
    /// The port connections go to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether `address` is this endpoint, resolving its host name if it has one.
    async fn admits(&self, address: SocketAddr) -> bool {
        if address.port() != self.port {
            return false;
        }
        match &self.host {
            Host::Address(granted) => canonical(*granted) == canonical(address.ip()),
            Host::Name(name) => match tokio::net::lookup_host((name.as_str(), self.port)).await {
                Ok(mut resolved) => resolved.any(|granted| canonical(granted.ip()) == canonical(address.ip())),
                Err(_) => false,
            },
        }
    }
}

/// An IPv4 address reached through an IPv4-mapped IPv6 socket is the same peer.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

impl FromStr for TcpEndpoint {
    type Err = InvalidTcpEndpoint;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| InvalidTcpEndpoint { text: text.to_owned(), reason };
        if text.contains("://") {
            return Err(invalid("a TCP endpoint has no scheme"));
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(|| invalid("it has no port"))?;
        let port: u16 = port.parse().map_err(|_| invalid("the port must be a number from 1 to 65535"))?;
        if port == 0 {
            return Err(invalid("the port must be a number from 1 to 65535"));
        }
        let host = if let Some(bracketed) = host.strip_prefix('[') {
            let address = bracketed.strip_suffix(']').ok_or_else(|| invalid("an unclosed [ in the host"))?;
            Host::Address(IpAddr::V6(
                address.parse().map_err(|_| invalid("the bracketed host is not an IPv6 address"))?,
            ))
        } else if let Ok(address) = host.parse::<IpAddr>() {
            if address.is_ipv6() {
                return Err(invalid("an IPv6 address is written in brackets, such as [::1]:25"));
            }
            Host::Address(address)
        } else if is_host_name(host) {
            Host::Name(host.to_ascii_lowercase())
        } else {
            return Err(invalid("the host is neither an IP address nor a host name"));
        };
        Ok(Self { host, port })
    }
}

/// Letters, digits, hyphens and dots, in labels of 1 to 63 characters.
fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

impl fmt::Display for TcpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Address(IpAddr::V6(address)) => write!(f, "[{address}]:{}", self.port),
            Host::Address(IpAddr::V4(address)) => write!(f, "{address}:{}", self.port),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

impl Serialize for TcpEndpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TcpEndpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The endpoints TCP connections may go to. Empty (the default) grants no sockets at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TcpAllowList {
    endpoints: Vec<TcpEndpoint>,
}

impl TcpAllowList {
    /// Grants exactly `endpoints`.
    pub fn new(endpoints: impl IntoIterator<Item = TcpEndpoint>) -> Self {
        let mut endpoints: Vec<TcpEndpoint> = endpoints.into_iter().collect();
        endpoints.dedup();
        Self { endpoints }
    }

    /// The granted endpoints.
    pub fn endpoints(&self) -> &[TcpEndpoint] {
        &self.endpoints
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Whether the guest may use `address` for `usage`: connect to a granted endpoint, after the
    /// implicit bind to a wildcard address that connecting performs.
    pub async fn permits(&self, address: SocketAddr, usage: SocketAddrUse) -> bool {
        match usage {
            SocketAddrUse::TcpBind => address.ip().is_unspecified() && address.port() == 0,
            SocketAddrUse::TcpConnect => {
                for endpoint in &self.endpoints {
                    if endpoint.admits(address).await {
                        return true;
                    }
                }
                false
            }
            _ => false,
        }
    }
}

/// The check `WasiCtxBuilder::socket_addr_check` takes, for `allowed`.
pub(crate) fn address_check(
    allowed: Arc<TcpAllowList>,
) -> impl Fn(SocketAddr, SocketAddrUse) -> Pin<Box<dyn Future<Output = bool> + Send + Sync>> + Send + Sync + 'static {
    move |address, usage| {
        let allowed = Arc::clone(&allowed);
        Box::pin(async move { allowed.permits(address, usage).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(text: &str) -> TcpEndpoint {
        text.parse().unwrap()
    }

    #[test]
    fn endpoints_parse_and_print_back() {
        for text in ["127.0.0.1:2525", "smtp.example.com:25", "[::1]:587"] {
            assert_eq!(endpoint(text).to_string(), text);
        }
        assert_eq!(endpoint("SMTP.Example.COM:25").to_string(), "smtp.example.com:25");
        for (text, says) in [
            ("smtp.example.com", "no port"),
            ("smtp://smtp.example.com:25", "no scheme"),
            ("smtp.example.com:0", "1 to 65535"),
            ("smtp.example.com:smtp", "1 to 65535"),
            ("::1:25", "brackets"),
            ("[::1:25", "unclosed"),
            ("bad host:25", "neither"),
            (":25", "neither"),
        ] {
            let error = text.parse::<TcpEndpoint>().unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[tokio::test]
    async fn only_connections_to_granted_endpoints_are_permitted() {
        let allowed = TcpAllowList::new([endpoint("127.0.0.1:2525"), endpoint("localhost:2600")]);
        let address = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert!(allowed.permits(address("127.0.0.1:2525"), SocketAddrUse::TcpConnect).await);
        assert!(allowed.permits(address("[::ffff:127.0.0.1]:2525"), SocketAddrUse::TcpConnect).await);
        assert!(allowed.permits(address("127.0.0.1:2600"), SocketAddrUse::TcpConnect).await, "localhost resolves");
        assert!(!allowed.permits(address("127.0.0.1:2526"), SocketAddrUse::TcpConnect).await, "another port");
        assert!(!allowed.permits(address("10.0.0.1:2525"), SocketAddrUse::TcpConnect).await, "another host");
        assert!(allowed.permits(address("0.0.0.0:0"), SocketAddrUse::TcpBind).await, "connect binds implicitly");
        assert!(!allowed.permits(address("0.0.0.0:2525"), SocketAddrUse::TcpBind).await, "no chosen port");
        assert!(!allowed.permits(address("127.0.0.1:2525"), SocketAddrUse::TcpListen).await);
        assert!(!allowed.permits(address("127.0.0.1:2525"), SocketAddrUse::UdpSend).await);
        assert!(!TcpAllowList::default().permits(address("127.0.0.1:2525"), SocketAddrUse::TcpConnect).await);
    }
}
