//! A non-finite number in a numeric CSV column (issue 19, item 12): `Infinity` in a
//! regression target used to turn the column categorical, and the regression silently
//! into a multinomial classification. Now the upload fails naming the column and the
//! line; among text, `inf` stays a label.

#![cfg(feature = "server")]

mod server_util;

use server_util::{get_json, start, submit, upload, wait_task};

#[test]
fn infinity_among_numbers_fails_the_upload_naming_column_and_line() {
    let server = start();
    let addr = server.addr();
    for bad in ["Infinity", "-inf", "1e999"] {
        let csv = format!("x,y\n1,2.5\n2,3.5\n3,{bad}\n4,1\n");
        let doc = wait_task(addr, &submit(addr, "/v2/upload", csv.as_bytes()));
        let message = doc["progress_message"].as_str().unwrap_or_default();
        assert_eq!(doc["status"], "fail", "{bad}: {doc}");
        assert!(
            message.contains("column 'y'") && message.contains("line 4") && message.contains(bad),
            "{bad}: {message}"
        );
    }
    let id = upload(addr, "x,c\n1,abc\n2,inf\n");
    let doc = get_json(addr, &format!("/v2/data/{id}"));
    assert_eq!(doc["columns"][1]["data_type"], "categorical", "{doc}");
    server.shutdown();
}
