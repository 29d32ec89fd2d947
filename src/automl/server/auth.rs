//! HTTP Basic authentication: `Authorization: Basic base64(user:password)`, checked
//! against the configured credentials. Nothing here logs or echoes what it is given.

use std::fmt;

/// The credentials the server accepts.
#[derive(Clone)]
pub(crate) struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    pub(crate) fn new(user: &str, password: &str) -> Credentials {
        Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// Whether an `Authorization` header value carries exactly these credentials.
    pub(crate) fn accepts(&self, authorization: Option<&str>) -> bool {
        let Some((user, password)) = authorization.and_then(parse_basic) else {
            return false;
        };
        // Compare both halves even when the first differs.
        let user_ok = constant_time_eq(user.as_bytes(), self.user.as_bytes());
        let password_ok = constant_time_eq(password.as_bytes(), self.password.as_bytes());
        user_ok & password_ok
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// Splits `Basic <base64>` into user and password (at the first `:`).
fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Decodes standard base64 (RFC 4648 alphabet), with or without `=` padding.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode};
    use base64::{alphabet, engine::GeneralPurposeConfig, Engine as _};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

/// Equality whose running time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_with_and_without_padding() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        for bad in ["Z", "Zm9v!", "Zg===", "Zm 9v", "Zg=a"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn accepts_only_the_configured_credentials() {
        let creds = Credentials::new("alice", "s3:cret");
        // "alice:s3:cret": the password may contain ':'.
        assert!(creds.accepts(Some("Basic YWxpY2U6czM6Y3JldA==")));
        assert!(creds.accepts(Some("basic   YWxpY2U6czM6Y3JldA")));
        assert!(!creds.accepts(None));
        assert!(!creds.accepts(Some("Bearer YWxpY2U6czM6Y3JldA==")));
        // "alice:wrong"
        assert!(!creds.accepts(Some("Basic YWxpY2U6d3Jvbmc=")));
        // "alice" with no colon
        assert!(!creds.accepts(Some("Basic YWxpY2U=")));
        assert!(!creds.accepts(Some("Basic !!!")));
        assert!(!creds.accepts(Some("Basic")));
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", Credentials::new("alice", "hunter2"));
        assert!(text.contains("alice") && !text.contains("hunter2"));
    }
}
