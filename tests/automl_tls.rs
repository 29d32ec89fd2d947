//! HTTPS: the client reaches the bundled server behind a TLS endpoint that the test
//! starts with a self-signed certificate it makes. Trusting that certificate (a CA
//! file) works end to end; without it the error says the certificate is not trusted,
//! and never blames the server's answers.

#![cfg(all(feature = "tls", feature = "server"))]

mod automl_util;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use automl_util::{server, watchdog, PASSWORD, USER};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use taskloop::automl::{AutomlError, Context, CsvSource, PredictInput, TrainInput};
use taskloop::flow::Flow;

/// A TLS endpoint on 127.0.0.1 that forwards to `upstream` in plain HTTP, with a
/// certificate for `localhost` made now. Returns its port and the certificate's PEM
/// file.
fn tls_endpoint(upstream: SocketAddr) -> (u16, PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = std::env::temp_dir().join(format!(
        "taskloop-tls-{}-{upstream}.pem",
        std::process::id()
    ));
    std::fs::write(&pem, made.cert.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let chain = vec![CertificateDer::from(made.cert.der().to_vec())];
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for client in listener.incoming().flatten().take(64) {
            let config = config.clone();
            thread::spawn(move || forward(client, config, upstream));
        }
    });
    (port, pem)
}

/// Shuttles bytes between one TLS client and `upstream` until either side closes (or
/// 60 s pass). Both sockets poll with short read timeouts, so one thread serves both
/// directions of the TLS stream.
fn forward(client: TcpStream, config: Arc<ServerConfig>, upstream: SocketAddr) {
    let tick = Some(Duration::from_millis(2));
    let Ok(mut plain) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(()), Ok(())) = (client.set_read_timeout(tick), plain.set_read_timeout(tick)) else {
        return;
    };
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(conn, client);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        match pump(&mut tls, &mut plain, &mut buf) {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
        match pump(&mut plain, &mut tls, &mut buf) {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

/// Copies what `from` has now to `to`; `Ok(false)` once `from` is closed.
fn pump(from: &mut impl Read, to: &mut impl Write, buf: &mut [u8]) -> io::Result<bool> {
    match from.read(buf) {
        Ok(0) => Ok(false),
        Ok(n) => to
            .write_all(&buf[..n])
            .and_then(|()| to.flush())
            .map(|()| true),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

#[test]
fn the_client_works_over_https_when_it_trusts_the_certificate() {
    watchdog(Duration::from_secs(120), || {
        let srv = server();
        let (port, pem) = tls_endpoint(srv.addr());
        let url = format!("https://localhost:{port}");
        let ctx = Context::builder(&url, USER, PASSWORD)
            .ca_file(&pem)
            .connect()
            .unwrap();
        let rows = (0..40).map(|i| vec![i.to_string(), (5 * i + 2).to_string()]);
        let mut flow = Flow::new();
        let data = ctx.upload(
            &mut flow,
            "upload",
            CsvSource::rows("t.csv", &["x", "y"], rows),
        );
        let exp = ctx.train(
            &mut flow,
            "train",
            TrainInput::new(&data, "y").algos(["GLM"]).nfold(2),
        );
        let pred = ctx.predict(&mut flow, "predict", PredictInput::new(&data, &exp));
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        let frame = pred.result().unwrap().frame().unwrap();
        assert_eq!(frame.rows(), 40);
        let stats = srv.stats();
        assert_eq!(stats.tasks_submitted.values().sum::<u64>(), 3, "{stats:?}");
        std::fs::remove_file(pem).unwrap();
    });
}

#[test]
fn an_untrusted_certificate_is_a_tls_error_not_a_server_fault() {
    watchdog(Duration::from_secs(60), || {
        let srv = server();
        let (port, pem) = tls_endpoint(srv.addr());
        // The platform's roots do not know the test's self-signed certificate.
        let err =
            Context::connect(&format!("https://localhost:{port}"), USER, PASSWORD).unwrap_err();
        assert!(matches!(err, AutomlError::Tls { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("no TLS connection") && text.contains("localhost"),
            "{text}"
        );
        assert!(!text.contains(PASSWORD), "{text}");
        // Plain HTTP to the TLS port is refused by the endpoint, not mistaken for TLS.
        let err =
            Context::connect(&format!("http://localhost:{port}"), USER, PASSWORD).unwrap_err();
        assert!(!matches!(err, AutomlError::Tls { .. }), "{err:?}");
        std::fs::remove_file(pem).unwrap();
    });
}

#[test]
fn settings_that_cannot_work_are_reported_up_front() {
    let err = |url: &str, password: &str| Context::connect(url, USER, password).unwrap_err();
    let cases = [
        (err("notaurl", PASSWORD), "'notaurl' has no scheme"),
        (err("ftp://127.0.0.1:1", PASSWORD), "scheme 'ftp'"),
        (err("http://127.0.0.1:1", ""), "the password is empty"),
    ];
    for (err, expected) in cases {
        assert!(matches!(err, AutomlError::Config { .. }), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(!err
            .to_string()
            .contains("unexpected answer from the AutoML server"));
    }
    let missing = Context::builder("https://localhost:1", USER, PASSWORD)
        .ca_file("/no/such/ca.pem")
        .connect()
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("cannot read the CA file /no/such/ca.pem"),
        "{missing}"
    );
}
