//! The cursor every API is built on: one run — a listing ([`PageRun`]), concurrent ID batches
//! ([`Batches`]) or a sync ([`SyncRun`]) — as a sequence of groups, each a JSON array text of
//! records (or, for a sync, of changes) that the caller decodes at once: the JS iterators with
//! one `JSON.parse`, the Rust streams with serde_json. A group says which page it belongs to
//! and whether that page ends with it; after each complete page of a listing there is a
//! continuation token that resumes after it. Generic over [`Transport`], tested on the host.
//!
//! # Examples
//!
//! ```
//! use appxite_customers::{cursor::Cursor, transport::Transport, Error};
//!
//! /// Each complete page's record count and continuation token.
//! async fn pages<T: Transport + Clone + 'static>(mut cursor: Cursor<T>) -> Result<Vec<(usize, Option<String>)>, Error> {
//!     let (mut out, mut count) = (vec![], 0);
//!     while let Some(group) = cursor.next(|json| Ok(json.len())).await? {
//!         count += group.count;
//!         if group.page_complete {
//!             out.push((std::mem::take(&mut count), group.continuation));
//!         }
//!     }
//!     Ok(out)
//! }
//! ```

use std::collections::VecDeque;

use crate::batches::Batches;
use crate::continuation::Continuation;
use crate::error::Error;
use crate::pager::{CollectedPage, PageRun};
use crate::query::CustomerQuery;
use crate::sync::{SyncRun, SyncStats};
use crate::transport::Transport;

/// Where a cursor's records come from.
pub enum Source<T: Transport + Clone + 'static> {
    /// One run over every page (`customers(orgId)`, or `customersByIds` one batch at a time).
    Listing(PageRun<T>),
    /// `customersByIds` with concurrency: whole batches collected ahead, in input order (the
    /// runtime spawns the `BatchPump` that goes with them).
    Batches(Batches<T>),
    /// A sync's changes.
    Sync(SyncRun<T>),
}

/// One step of a cursor: a group of records, decoded by the caller.
#[derive(Debug)]
pub struct Group<D> {
    /// What `decode` made of the group's JSON array text; `None` for a page end without
    /// records (an empty page, or the end of a page whose records all came before).
    pub decoded: Option<D>,
    /// Records (or changes) in the group.
    pub count: usize,
    /// The page they belong to (1-based; 0 for a sync's changes).
    pub page: u32,
    /// The page ends with this group.
    pub page_complete: bool,
    /// With a complete page of a resumable listing: the token that resumes after it.
    pub continuation: Option<String>,
}

/// One run as groups of records. See the module docs.
pub struct Cursor<T: Transport + Clone + 'static> {
    /// `None` once stopped or finished.
    source: Option<Source<T>>,
    /// Batches' pages collected but not yet handed out.
    collected: VecDeque<CollectedPage>,
    /// A listing that continuation tokens resume: its organization and query.
    resumable: Option<(String, CustomerQuery)>,
    stats: SyncStats,
    snapshot: Option<Vec<u8>>,
}

impl<T: Transport + Clone + 'static> Cursor<T> {
    /// A cursor over `source`; `resumable`: the organization and query of a listing whose
    /// pages get continuation tokens.
    pub fn new(source: Source<T>, resumable: Option<(String, CustomerQuery)>) -> Self {
        Cursor { source: Some(source), collected: VecDeque::new(), resumable, stats: SyncStats::default(), snapshot: None }
    }

    /// A sync's counts so far.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// A sync's next snapshot: set once it has completed, never before.
    pub fn snapshot(&self) -> Option<&[u8]> {
        self.snapshot.as_deref()
    }

    /// Whether the cursor has ended (finished, failed or stopped).
    pub fn is_done(&self) -> bool {
        self.source.is_none()
    }

    /// Stop: no further requests; the request in flight is aborted (dropping the batches
    /// stops their pump), memory is released.
    pub fn stop(&mut self) {
        match self.source.take() {
            Some(Source::Listing(mut run)) => run.close(),
            Some(Source::Sync(mut sync)) => sync.close(),
            Some(Source::Batches(batches)) => drop(batches),
            None => {}
        }
        self.collected.clear();
    }

    /// The next group, its JSON array text decoded by `decode`. `Ok(None)`: the run is over
    /// (for a sync, [`snapshot`](Self::snapshot) is set then). After an error the cursor is
    /// stopped.
    pub async fn next<D>(&mut self, decode: impl FnOnce(&[u8]) -> Result<D, Error>) -> Result<Option<Group<D>>, Error> {
        let result = self.step(decode).await;
        if !matches!(result, Ok(Some(_))) {
            self.stop();
        }
        result
    }

    async fn step<D>(&mut self, decode: impl FnOnce(&[u8]) -> Result<D, Error>) -> Result<Option<Group<D>>, Error> {
        match self.source.as_mut() {
            None => Ok(None),
            Some(Source::Listing(run)) => {
                let Some(progress) = run.advance().await? else { return Ok(None) };
                let (decoded, count) = match run.scanner().with_array_bytes(decode) {
                    Some((decoded, count)) => (Some(decoded?), count),
                    None => (None, 0),
                };
                let mut continuation = None;
                if progress.page_complete {
                    let last_id = run.take_page_last_key();
                    if let Some((org, query)) = &self.resumable {
                        continuation = Some(Continuation { page: progress.page.saturating_add(1), last_id }.encode(org, query));
                    }
                }
                Ok(Some(Group { decoded, count, page: progress.page, page_complete: progress.page_complete, continuation }))
            }
            Some(Source::Sync(sync)) => {
                let more = sync.advance().await;
                self.stats = sync.stats();
                if !more? {
                    self.snapshot = sync.snapshot().map(<[u8]>::to_vec);
                    return Ok(None);
                }
                let (json, count) = sync.take_changes();
                Ok(Some(Group { decoded: Some(decode(json)?), count, page: 0, page_complete: false, continuation: None }))
            }
            Some(Source::Batches(batches)) => loop {
                if let Some(page) = self.collected.pop_front() {
                    let decoded = decode(&page.json)?;
                    return Ok(Some(Group {
                        decoded: Some(decoded),
                        count: page.count,
                        page: page.page,
                        page_complete: true,
                        continuation: None,
                    }));
                }
                match batches.next().await {
                    Some(Ok(pages)) => self.collected.extend(pages),
                    Some(Err(e)) => return Err(e),
                    None => return Ok(None),
                }
            },
        }
    }
}
