//! Stored documents (of data sets, experiments and models) and their answers.
//!
//! A document can be large: a data set with thousands of long column names has a
//! document of tens of megabytes. Serialising it for every `GET` on the loop made each
//! reader cost its own copy while it was sent (40 readers that never read: +2.4 GiB)
//! and stalled everyone else meanwhile. So a [`Document`] remembers the bytes of its
//! last serialisation for as long as any response still holds them (a `Weak`
//! reference): N readers at once share one copy, and once the last of them is done
//! the bytes are freed. A document whose serialisation is known to be small is
//! serialised on the loop; the others in the parse pool ([`Offload`]), one thread at a
//! time per document (the others wait for its bytes).

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde_json::Value;

use super::error::ApiError;
use super::offload::{Offload, LARGE_BODY};
use super::response::Response;

/// A stored document: its JSON value and the bytes a response may share.
pub(crate) struct Document {
    value: Value,
    /// The last serialisation, while a response holds it.
    bytes: Mutex<Option<Weak<[u8]>>>,
    /// Its length (0 before the first serialisation).
    len: AtomicUsize,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Document").field(&self.value).finish()
    }
}

impl Deref for Document {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl Document {
    /// A document for `value`.
    pub(crate) fn new(value: Value) -> Arc<Document> {
        Arc::new(Document {
            value,
            bytes: Mutex::new(None),
            len: AtomicUsize::new(0),
        })
    }

    /// The JSON value.
    pub(crate) fn value(&self) -> &Value {
        &self.value
    }

    /// The bytes a response holds now, if any. Never waits: `None` while another
    /// thread is serialising.
    fn shared_bytes(&self) -> Option<Arc<[u8]>> {
        self.bytes.try_lock().ok()?.as_ref()?.upgrade()
    }

    /// Appends the serialised document to `out`: the bytes a response holds, if any,
    /// else a new serialisation (whose length is then known).
    fn write_into(&self, out: &mut Vec<u8>) {
        if let Some(bytes) = self.shared_bytes() {
            return out.extend_from_slice(&bytes);
        }
        let start = out.len();
        out.extend_from_slice(self.value.to_string().as_bytes());
        self.len.store(out.len() - start, Ordering::Relaxed);
    }

    /// The serialised document, shared with every response that holds it already.
    fn serialise(&self) -> Arc<[u8]> {
        let mut slot = crate::runtime::lock(&self.bytes);
        if let Some(bytes) = slot.as_ref().and_then(Weak::upgrade) {
            return bytes;
        }
        let bytes: Arc<[u8]> = self.value.to_string().into_bytes().into();
        *slot = Some(Arc::downgrade(&bytes));
        self.len.store(bytes.len(), Ordering::Relaxed);
        bytes
    }
}

/// `200` with `doc`: bytes another response holds are shared; a document known to be
/// small is serialised here; any other in the parse pool.
///
/// # Errors
/// `503` when the parse pool stays busy.
pub(crate) async fn answer(doc: Arc<Document>, offload: &Offload) -> Result<Response, ApiError> {
    if let Some(bytes) = doc.shared_bytes() {
        return Ok(Response::shared_json(bytes));
    }
    let len = doc.len.load(Ordering::Relaxed);
    if len > 0 && len <= LARGE_BODY {
        return Ok(Response::json(200, doc.value()));
    }
    let bytes = offload
        .run("sending large documents", move || doc.serialise())
        .await?;
    Ok(Response::shared_json(bytes))
}

/// `200` with a page of a list, `{"total", "offset", "limit", "items": docs}`: put
/// together here when every document on it is known to be small (together at most
/// [`LARGE_BODY`]), else in the parse pool.
///
/// # Errors
/// `503` when the parse pool stays busy.
pub(crate) async fn page(
    (total, offset, limit): (usize, usize, usize),
    docs: Vec<Arc<Document>>,
    offload: &Offload,
) -> Result<Response, ApiError> {
    let known: Option<usize> = docs
        .iter()
        .map(|d| Some(d.len.load(Ordering::Relaxed)).filter(|&n| n > 0))
        .sum();
    let build = move || {
        let head = format!("{{\"total\":{total},\"offset\":{offset},\"limit\":{limit},\"items\":[");
        let mut out = head.into_bytes();
        for (i, doc) in docs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            doc.write_into(&mut out);
        }
        out.extend_from_slice(b"]}");
        Response::json_bytes(out)
    };
    match known {
        Some(len) if len <= LARGE_BODY => Ok(build()),
        _ => offload.run("listing large documents", build).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readers_at_once_share_one_copy_that_goes_with_the_last() {
        let doc = Document::new(json!({"_id": "d", "columns": ["a".repeat(100_000)]}));
        let first = doc.serialise();
        let second = doc.serialise();
        assert!(Arc::ptr_eq(&first, &second), "one copy for both");
        assert!(Arc::ptr_eq(&doc.shared_bytes().unwrap(), &first));
        let text: Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(&text, doc.value());
        drop((first, second));
        assert!(doc.shared_bytes().is_none(), "freed with the last reader");
        assert_eq!(doc.len.load(Ordering::Relaxed), text.to_string().len());
    }

    #[test]
    fn a_page_holds_the_documents_as_they_serialise() {
        let rt = crate::Runtime::new().unwrap();
        let offload = Offload::default();
        let docs = vec![
            Document::new(json!({"_id": "a", "names": ["n".repeat(LARGE_BODY)]})),
            Document::new(json!({"_id": "b"})),
        ];
        let shared = docs[0].serialise();
        let response = rt.block_on(page((7, 1, 2), docs, &offload)).unwrap();
        let page: Value = serde_json::from_slice(response.body.as_slice()).unwrap();
        assert_eq!(
            (page["total"].clone(), page["offset"].clone()),
            (json!(7), json!(1))
        );
        assert_eq!(page["limit"], 2);
        assert_eq!(
            page["items"][0]["names"][0].as_str().unwrap().len(),
            LARGE_BODY
        );
        assert_eq!(page["items"][1], json!({"_id": "b"}));
        drop(shared);
    }

    #[test]
    fn answers_share_the_bytes_of_large_documents() {
        let rt = crate::Runtime::new().unwrap();
        let offload = Offload::default();
        let doc = Document::new(json!({"names": ["n".repeat(LARGE_BODY)]}));
        let (a, b) = rt.block_on(async {
            let a = answer(doc.clone(), &offload).await.unwrap();
            let b = answer(doc.clone(), &offload).await.unwrap();
            (a, b)
        });
        assert_eq!((a.status, a.content_type), (200, "application/json"));
        match (&a.body, &b.body) {
            (super::super::response::Body::Shared(x), super::super::response::Body::Shared(y)) => {
                assert!(Arc::ptr_eq(x, y))
            }
            other => panic!("not shared: {other:?}"),
        }
    }
}
