//! How the client reaches a server: the base URL, checked up front, and the `ureq`
//! agent, with TLS for `https://` (feature `tls`, on by default: rustls through ureq,
//! verifying with the platform's roots or the CA certificates of a given file).

#[cfg(feature = "tls")]
use std::path::Path;
use std::time::Duration;

use super::error::AutomlError;

/// Which certificates a TLS connection trusts.
#[derive(Debug, Clone, Default)]
pub(crate) enum Roots {
    /// The operating system's trust store.
    #[default]
    Platform,
    /// The certificates of a PEM file (e.g. a private CA, or a self-signed server).
    CaFile(std::path::PathBuf),
}

/// Checks `url` (`http://host[:port][/prefix]`, or `https://…` with TLS) and returns it
/// without a trailing `/`.
///
/// # Errors
/// [`AutomlError::Config`] naming what is wrong: no scheme, an unsupported scheme, no
/// host, a query or fragment, or `https` in a build without the `tls` feature.
pub(crate) fn base_url(url: &str) -> Result<String, AutomlError> {
    let bad = |why: &str| AutomlError::config(format!("the server URL '{url}' {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("has no scheme (expected http://host:port or https://host:port)"))?;
    match scheme.to_ascii_lowercase().as_str() {
        "http" => {}
        "https" if cfg!(feature = "tls") => {}
        "https" => {
            return Err(bad(
                "needs TLS, which this build leaves out (taskloop's `tls` feature)",
            ))
        }
        _ => {
            return Err(bad(&format!(
                "has the scheme '{scheme}' (expected http or https)"
            )))
        }
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || host.contains('@') {
        return Err(bad("has no host (expected http://host:port)"));
    }
    if rest.contains(['?', '#']) || rest.contains(char::is_whitespace) {
        return Err(bad("may hold only a scheme, a host, a port and a path"));
    }
    let port = host
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|_| !host.ends_with(']'));
    if let Some(port) = port.filter(|p| !p.contains(']')) {
        if port.parse::<u16>().is_err() {
            return Err(bad(&format!(
                "has the port '{port}' (expected a number up to 65535)"
            )));
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The agent every request of one context goes through.
///
/// # Errors
/// [`AutomlError::Config`] if the CA file cannot be read or holds no certificate (or
/// is given to a build without TLS).
pub(crate) fn agent(request_timeout: Duration, roots: &Roots) -> Result<ureq::Agent, AutomlError> {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(request_timeout))
        .timeout_connect(Some(Duration::from_secs(5)))
        .max_idle_connections_per_host(64);
    #[cfg(feature = "tls")]
    let config = config.tls_config(tls_config(roots)?);
    #[cfg(not(feature = "tls"))]
    if let Roots::CaFile(path) = roots {
        return Err(AutomlError::config(format!(
            "the CA file {} is for https, which this build leaves out (taskloop's `tls` feature)",
            path.display()
        )));
    }
    // ureq would otherwise look the host up on a new thread for every request
    // (`resolve.rs` says why).
    let connector = ureq::unversioned::transport::DefaultConnector::default();
    let resolver = super::resolve::CachingResolver::default();
    Ok(ureq::Agent::with_parts(config.build(), connector, resolver))
}

#[cfg(feature = "tls")]
fn tls_config(roots: &Roots) -> Result<ureq::tls::TlsConfig, AutomlError> {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let roots = match roots {
        Roots::Platform => RootCerts::PlatformVerifier,
        Roots::CaFile(path) => RootCerts::new_with_certs(&read_certificates(path)?),
    };
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .build())
}

/// The certificates of a PEM file.
#[cfg(feature = "tls")]
fn read_certificates(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, AutomlError> {
    use ureq::tls::PemItem;
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| AutomlError::config(format!("cannot read the CA file {shown}: {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => {
                return Err(AutomlError::config(format!(
                    "the CA file {shown} is not PEM: {e}"
                )))
            }
        }
    }
    if certs.is_empty() {
        return Err(AutomlError::config(format!(
            "the CA file {shown} holds no certificate"
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_up_front() {
        assert_eq!(
            base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url("http://core.example/api").unwrap(),
            "http://core.example/api"
        );
        assert_eq!(base_url("http://[::1]:80").unwrap(), "http://[::1]:80");
        let err = |url: &str| base_url(url).unwrap_err().to_string();
        assert!(
            err("notaurl").contains("'notaurl' has no scheme"),
            "{}",
            err("notaurl")
        );
        assert!(err("ftp://host").contains("scheme 'ftp'"));
        assert!(err("http://").contains("no host"));
        assert!(err("http://:80").contains("no host"));
        assert!(err("http://host:http").contains("port 'http'"));
        assert!(err("http://host:99999").contains("port '99999'"));
        assert!(err("http://host/?q").contains("only a scheme"));
        assert!(err("http://user:pw@host").contains("no host"));
        if cfg!(feature = "tls") {
            assert!(base_url("https://core.example").is_ok());
        } else {
            assert!(err("https://core.example").contains("`tls` feature"));
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn a_ca_file_must_hold_certificates() {
        let dir = std::env::temp_dir();
        let missing = dir.join("taskloop-no-such-ca.pem");
        let err = agent(Duration::from_secs(1), &Roots::CaFile(missing)).unwrap_err();
        assert!(err.to_string().contains("cannot read the CA file"), "{err}");
        let empty = dir.join(format!("taskloop-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = agent(Duration::from_secs(1), &Roots::CaFile(empty.clone())).unwrap_err();
        assert!(err.to_string().contains("holds no certificate"), "{err}");
        std::fs::remove_file(&empty).unwrap();
    }
}
