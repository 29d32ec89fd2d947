//! Uploads go out as the Decanter SDK sends them: a `multipart/form-data` form with one
//! file part named `csv`, with a `Content-Length` whenever the size is known (a file,
//! in-memory text); only a reader of unknown length is sent chunked. A recording proxy
//! between the client and the bundled server sees the bytes on the wire.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use automl_util::{context, server, watchdog};
use taskloop::automl::CsvSource;
use taskloop::flow::Flow;

/// A proxy to `upstream` that records every byte clients send; returns its URL.
fn recording_proxy(upstream: std::net::SocketAddr, sent: Arc<Mutex<Vec<u8>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for client in listener.incoming().flatten().take(64) {
            let server = TcpStream::connect(upstream).unwrap();
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let sent = sent.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n @ 1..) = c_in.read(&mut buf) {
                    sent.lock().unwrap().extend_from_slice(&buf[..n]);
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_out.shutdown(Shutdown::Write);
            });
            let (mut s_in, mut c_out) = (server, client);
            thread::spawn(move || {
                let _ = std::io::copy(&mut s_in, &mut c_out);
                let _ = c_out.shutdown(Shutdown::Write);
            });
        }
    });
    url
}

/// The head of the first `POST /v2/upload` in `bytes`, lower-cased.
fn upload_head(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let start = text.find("POST /v2/upload").expect("an upload request");
    let end = text[start..].find("\r\n\r\n").expect("its head") + start;
    text[start..end].to_ascii_lowercase()
}

fn upload_with(source: CsvSource) -> (String, String) {
    let srv = server();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let url = recording_proxy(srv.addr(), sent.clone());
    let ctx = context(&url);
    let mut flow = Flow::new();
    let data = ctx.upload(&mut flow, "upload", source);
    assert!(flow.run().is_success());
    assert_eq!(data.result().unwrap().rows, 2);
    let bytes = sent.lock().unwrap().clone();
    (
        upload_head(&bytes),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[test]
fn a_file_is_sent_as_a_form_with_its_length() {
    watchdog(Duration::from_secs(60), || {
        let path = std::env::temp_dir().join(format!("taskloop-form-{}.csv", std::process::id()));
        std::fs::write(&path, "a,b\n1,2\n3,4\n").unwrap();
        let (head, wire) = upload_with(CsvSource::path(&path));
        std::fs::remove_file(&path).unwrap();
        assert!(
            head.contains("content-type: multipart/form-data; boundary="),
            "{head}"
        );
        assert!(head.contains("content-length: "), "{head}");
        assert!(!head.contains("transfer-encoding"), "{head}");
        let name = path.file_name().unwrap().to_str().unwrap();
        let part = format!("Content-Disposition: form-data; name=\"csv\"; filename=\"{name}\"");
        assert!(wire.contains(&part), "{wire}");
    });
}

#[test]
fn text_has_a_length_and_a_reader_is_chunked() {
    watchdog(Duration::from_secs(60), || {
        let (head, _) = upload_with(CsvSource::text("t.csv", "a,b\n1,2\n3,4\n"));
        assert!(
            head.contains("content-length: ") && !head.contains("transfer-encoding"),
            "{head}"
        );
        let reader = std::io::Cursor::new(b"a,b\n1,2\n3,4\n".to_vec());
        let (head, _) = upload_with(CsvSource::reader("r.csv", reader));
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        assert!(!head.contains("content-length"), "{head}");
    });
}
