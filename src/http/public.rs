//! A service's public base URL: where clients reach it, for the URLs the services hand
//! out (pay URIs, `merchant_base_url`, status URLs).
//!
//! With `[taler-openapi] PUBLIC_URL` it is that URL followed by the service's base path.
//! Without it, it is built from the request: its `Host`, and, only when
//! `TRUST_FORWARDED_HEADERS = YES`, the `X-Forwarded-Host`, `X-Forwarded-Proto` and
//! `X-Forwarded-Prefix` a proxy in front of the server sets. Any client can send those
//! headers, so they are not believed by default.

use poem::Request;

use crate::config::Config;

/// Where a service is reached: `scheme://host` and the path of its base, with slashes
/// on both ends (`/merchant/`, `/taler/merchant/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and port, as clients name them.
    pub host: String,
    /// The service's path below the host.
    pub path: String,
}

impl PublicBase {
    /// The public base of the service living at `service_base` (`/merchant/`).
    pub fn of(req: &Request, config: &Config, service_base: &str) -> PublicBase {
        if let Some(url) = &config.public_url {
            let host = match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or("localhost")),
                None => url.host_str().unwrap_or("localhost").to_owned(),
            };
            return PublicBase {
                scheme: url.scheme().to_owned(),
                host,
                path: join(url.path(), service_base),
            };
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or("").trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let forwarded = |name: &str| {
            if config.trust_forwarded_headers {
                header(name)
            } else {
                None
            }
        };
        let scheme = match forwarded("x-forwarded-proto").as_deref() {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let host = forwarded("x-forwarded-host")
            .filter(|h| is_host(h))
            .or_else(|| header("host").filter(|h| is_host(h)))
            .unwrap_or_else(|| "localhost".to_owned());
        let prefix = forwarded("x-forwarded-prefix")
            .filter(|p| is_prefix(p))
            .unwrap_or_default();
        PublicBase {
            scheme: scheme.to_owned(),
            host,
            path: join(&prefix, service_base),
        }
    }

    /// `scheme://host/path/`.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host, self.path)
    }
}

/// A host (and port) as a header may name it: visible ASCII, no path, no user.
fn is_host(h: &str) -> bool {
    h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_graphic() && !b"/@\\?#".contains(&b))
}

/// A path prefix: `/` and segments of URL-safe characters, no `.` or `..` segment.
fn is_prefix(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= 255
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~%".contains(&b))
        && !p.split('/').any(|s| s == "." || s == "..")
}

/// `prefix` and `base` as one path with slashes on both ends.
fn join(prefix: &str, base: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let base = base.trim_start_matches('/');
    let mut path = format!("{prefix}/{base}");
    if !path.ends_with('/') {
        path.push('/');
    }
    path
}

/// The address a request comes from, as a rate is counted for it: the peer, or, with
/// `TRUST_FORWARDED_HEADERS = YES`, the last address of `X-Forwarded-For` (the one the
/// proxy in front of us appended; those before it are the client's to invent). An IPv6
/// client is counted by its /64 network, since one host is given a whole /64.
pub fn client_address(req: &Request, config: &Config) -> String {
    let forwarded = config
        .trust_forwarded_headers
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
                .next_back()
        })
        .flatten();
    let peer = forwarded.or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()));
    match peer {
        Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().expect("mapped").to_string(),
        Some(ip) => ip.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_paths_have_one_slash_between_and_around() {
        assert_eq!(join("", "/merchant/"), "/merchant/");
        assert_eq!(join("/taler", "/merchant/"), "/taler/merchant/");
        assert_eq!(join("/taler/", "/merchant/"), "/taler/merchant/");
        assert_eq!(join("/", "/"), "/");
    }

    #[test]
    fn prefixes_and_hosts_are_checked() {
        assert!(is_prefix("/taler") && is_prefix("/a/b-c_d"));
        assert!(!is_prefix("taler") && !is_prefix("/a/../b") && !is_prefix("/a b"));
        assert!(is_host("shop.example:8443"));
        assert!(!is_host("evil.example/path") && !is_host("user@host"));
    }
}
