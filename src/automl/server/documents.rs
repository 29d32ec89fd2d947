//! Answers with stored documents (of data sets, experiments and models).
//!
//! A document can be large: a data set with thousands of long column names has a
//! document of tens of megabytes. Serialising it for every `GET` on the loop made each
//! reader cost its own copy while it was sent (40 readers that never read: +2.4 GiB)
//! and stalled everyone else meanwhile. So the [`DocumentCache`] remembers, for each
//! stored document (an `Arc<Value>` of the store), the bytes of its last serialisation
//! for as long as any response still holds them (a `Weak` reference): N readers at
//! once share one copy, and once the last of them is done the bytes are freed. A
//! document whose serialisation is known to be small is serialised on the loop; the
//! others in the parse pool ([`Offload`]), one thread at a time per document (the
//! others wait for its bytes).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde_json::Value;

use super::error::ApiError;
use super::offload::{Offload, LARGE_BODY};
use super::response::Response;
use crate::runtime::lock;

/// What is known of one document's serialisation.
#[derive(Default)]
struct Slot {
    /// The last serialisation, while a response holds it. Locked while a thread
    /// serialises, so that the others wait for its bytes.
    bytes: Mutex<Option<Weak<Vec<u8>>>>,
    /// Its length (0 before the first serialisation).
    len: AtomicUsize,
}

impl Slot {
    /// The bytes a response holds now, if any. Never waits: `None` while another
    /// thread is serialising.
    fn shared_bytes(&self) -> Option<Arc<Vec<u8>>> {
        self.bytes.try_lock().ok()?.as_ref()?.upgrade()
    }

    /// Appends `doc` serialised to `out`: the bytes a response holds, if any, else a
    /// new serialisation (whose length is then known).
    fn write_into(&self, doc: &Value, out: &mut Vec<u8>) {
        if let Some(bytes) = self.shared_bytes() {
            return out.extend_from_slice(&bytes);
        }
        let start = out.len();
        out.extend_from_slice(doc.to_string().as_bytes());
        self.len.store(out.len() - start, Ordering::Relaxed);
    }

    /// `doc` serialised, shared with every response that holds it already.
    fn serialise(&self, doc: &Value) -> Arc<Vec<u8>> {
        let mut slot = lock(&self.bytes);
        if let Some(bytes) = slot.as_ref().and_then(Weak::upgrade) {
            return bytes;
        }
        let bytes = Arc::new(doc.to_string().into_bytes());
        *slot = Some(Arc::downgrade(&bytes));
        self.len.store(bytes.len(), Ordering::Relaxed);
        bytes
    }

    /// The length of the last serialisation, if there was one.
    fn known_len(&self) -> Option<usize> {
        Some(self.len.load(Ordering::Relaxed)).filter(|&n| n > 0)
    }
}

/// The slots of the documents served, by the address of their allocation (shared
/// by the loop and the parse threads; cheap to clone).
///
/// An entry keeps a `Weak` to its document, which keeps the allocation (not the
/// tree) alive, so the address cannot be reused for another document while the entry
/// exists. Entries of documents the store has dropped are pruned as the map grows.
#[derive(Clone, Default)]
pub(crate) struct DocumentCache {
    inner: Arc<Mutex<Entries>>,
}

#[derive(Default)]
struct Entries {
    slots: HashMap<usize, (Weak<Value>, Arc<Slot>)>,
    /// Entries after the last pruning.
    pruned_to: usize,
}

impl fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = lock(&self.inner).slots.len();
        f.debug_struct("DocumentCache")
            .field("entries", &entries)
            .finish()
    }
}

impl DocumentCache {
    /// The slot of `doc`, made if it has none.
    fn slot(&self, doc: &Arc<Value>) -> Arc<Slot> {
        let mut entries = lock(&self.inner);
        if entries.slots.len() > 2 * entries.pruned_to + 64 {
            entries.slots.retain(|_, (doc, _)| doc.strong_count() > 0);
            entries.pruned_to = entries.slots.len();
        }
        let key = Arc::as_ptr(doc) as usize;
        let (_, slot) = entries
            .slots
            .entry(key)
            .or_insert_with(|| (Arc::downgrade(doc), Arc::default()));
        slot.clone()
    }

    /// `200` with `doc`: bytes another response holds are shared; a document known
    /// to be small is serialised here; any other in the parse pool.
    ///
    /// # Errors
    /// `503` when the parse pool stays busy.
    pub(crate) async fn answer(
        &self,
        doc: Arc<Value>,
        offload: &Offload,
    ) -> Result<Response, ApiError> {
        let slot = self.slot(&doc);
        if let Some(bytes) = slot.shared_bytes() {
            return Ok(Response::shared_json(bytes));
        }
        if slot.known_len().is_some_and(|n| n <= LARGE_BODY) {
            return Ok(Response::json(200, &doc));
        }
        let bytes = offload
            .run("sending large documents", move || slot.serialise(&doc))
            .await?;
        Ok(Response::shared_json(bytes))
    }

    /// `200` with the object `doc` and, under `key`, the stored document `inner` (a
    /// task and the document of what it made): `inner`'s serialisation is shared as
    /// [`answer`](Self::answer) shares it, and framed by `doc`'s own few bytes, so
    /// readers polling a task with a large result share one copy too.
    ///
    /// # Errors
    /// `503` when the parse pool stays busy.
    pub(crate) async fn answer_within(
        &self,
        mut doc: Value,
        key: &str,
        inner: Arc<Value>,
        offload: &Offload,
    ) -> Result<Response, ApiError> {
        let slot = self.slot(&inner);
        let bytes = match slot.shared_bytes() {
            Some(bytes) => bytes,
            None if slot.known_len().is_some_and(|n| n <= LARGE_BODY) => {
                if let Some(map) = doc.as_object_mut() {
                    map.insert(key.to_owned(), Value::clone(&inner));
                }
                return Ok(Response::json(200, &doc));
            }
            None => {
                offload
                    .run("sending large documents", move || slot.serialise(&inner))
                    .await?
            }
        };
        Ok(Response::framed_json(&doc, key, bytes))
    }

    /// `200` with a page of a list, `{"total", "offset", "limit", "items": docs}`:
    /// put together here when every document on it is known to be small (together at
    /// most [`LARGE_BODY`]), else in the parse pool.
    ///
    /// # Errors
    /// `503` when the parse pool stays busy.
    pub(crate) async fn page(
        &self,
        (total, offset, limit): (usize, usize, usize),
        docs: Vec<Arc<Value>>,
        offload: &Offload,
    ) -> Result<Response, ApiError> {
        let docs: Vec<(Arc<Value>, Arc<Slot>)> = docs
            .into_iter()
            .map(|doc| {
                let slot = self.slot(&doc);
                (doc, slot)
            })
            .collect();
        let known: Option<usize> = docs.iter().map(|(_, slot)| slot.known_len()).sum();
        let build = move || {
            let head =
                format!("{{\"total\":{total},\"offset\":{offset},\"limit\":{limit},\"items\":[");
            let mut out = head.into_bytes();
            for (i, (doc, slot)) in docs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                slot.write_into(doc, &mut out);
            }
            out.extend_from_slice(b"]}");
            Response::json_bytes(out)
        };
        match known {
            Some(len) if len <= LARGE_BODY => Ok(build()),
            _ => offload.run("listing large documents", build).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::response::Body;
    use super::*;
    use serde_json::json;

    #[test]
    fn readers_at_once_share_one_copy_that_goes_with_the_last() {
        let cache = DocumentCache::default();
        let doc = Arc::new(json!({"_id": "d", "columns": ["a".repeat(100_000)]}));
        let slot = cache.slot(&doc);
        let first = slot.serialise(&doc);
        let second = cache.slot(&doc).serialise(&doc);
        assert!(Arc::ptr_eq(&first, &second), "one copy for both");
        assert!(Arc::ptr_eq(&slot.shared_bytes().unwrap(), &first));
        let text: Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(&text, &*doc);
        drop((first, second));
        assert!(slot.shared_bytes().is_none(), "freed with the last reader");
        assert_eq!(slot.known_len(), Some(text.to_string().len()));
    }

    #[test]
    fn entries_of_dropped_documents_are_pruned() {
        let cache = DocumentCache::default();
        for i in 0..1000 {
            let doc = Arc::new(json!({ "_id": i }));
            cache.slot(&doc);
        }
        assert!(lock(&cache.inner).slots.len() <= 2 * 64 + 1);
    }

    #[test]
    fn answers_share_the_bytes_of_large_documents() {
        let rt = crate::Runtime::new().unwrap();
        let (cache, offload) = (DocumentCache::default(), Offload::default());
        let doc = Arc::new(json!({"names": ["n".repeat(LARGE_BODY)]}));
        let (a, b) = rt.block_on(async {
            let a = cache.answer(doc.clone(), &offload).await.unwrap();
            let b = cache.answer(doc.clone(), &offload).await.unwrap();
            (a, b)
        });
        assert_eq!((a.status, a.content_type), (200, "application/json"));
        match (&a.body, &b.body) {
            (Body::Document(x), Body::Document(y)) => assert!(Arc::ptr_eq(x, y)),
            _ => panic!("the bodies are not one shared copy"),
        }
    }

    #[test]
    fn a_page_holds_the_documents_as_they_serialise() {
        let rt = crate::Runtime::new().unwrap();
        let (cache, offload) = (DocumentCache::default(), Offload::default());
        let docs = vec![
            Arc::new(json!({"_id": "a", "names": ["n".repeat(LARGE_BODY)]})),
            Arc::new(json!({"_id": "b"})),
        ];
        let shared = cache.slot(&docs[0]).serialise(&docs[0]);
        let response = rt.block_on(cache.page((7, 1, 2), docs, &offload)).unwrap();
        let page: Value = serde_json::from_slice(&response.body.as_slice()).unwrap();
        assert_eq!((&page["total"], &page["offset"]), (&json!(7), &json!(1)));
        assert_eq!(page["limit"], 2);
        assert_eq!(
            page["items"][0]["names"][0].as_str().unwrap().len(),
            LARGE_BODY
        );
        assert_eq!(page["items"][1], json!({"_id": "b"}));
        drop(shared);
    }
}
