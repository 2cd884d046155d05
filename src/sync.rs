//! Sync: what changed since the caller's last snapshot — customers `added`, `changed` (their
//! content differs in the requested sections) and `removed` — and the snapshot to keep for the
//! next time. Generic over [`Transport`], like the pager, and tested on the host.
//!
//! A sync is one listing run (`GET`, every page, each customer once: see
//! `PageRun::drop_repeats`) and then a confirmation: offset paging over live data can skip a
//! customer (a deletion before the current page shifts the next page by one), so a customer
//! of the last snapshot that the listing did not return is asked for by ID (the POST form, with
//! `includeChildOrganizations=false` and the same sections and status filter) before it is
//! called removed. That confirmation also reports the skipped customers that did change.
//! A customer the server no longer knows makes the POST a 404; the SDK then takes out the ID
//! the message names (a whole ID: `c1` is not named by "c10 was not found"; or halves the
//! batch when it names none) and asks again.
//!
//! What a sync of organization X holds: the customers X's listing returns. The POST by ID
//! returns a customer wherever it now belongs, so a confirmed customer counts only while it is
//! still in X's scope: its `resellerId` is X, or a reseller this sync's listing returned
//! customers of (for a distributor: its resellers), or it is X itself. A customer moved out of
//! that scope is reported `removed` (from this organization); one moved to a reseller of the
//! same distributor that has no other customer in the listing is removed too, and comes back
//! as `added` when the listing returns it.
//!
//! Each step's changes are written as one JSON array text, `[{"type":"added","customerId":…,
//! "customer":{…record bytes…}},…]`, for one `JSON.parse` in JS (or serde_json in Rust);
//! unchanged customers are never decoded at all.

use std::collections::VecDeque;
use std::rc::Rc;

use serde::Serialize;
use tsify::Tsify;

use crate::error::Error;
use crate::json::{quote_into, top_level_string};
use crate::pager::{ClientConfig, PageRun, RunOptions, Target};
use crate::query::CustomerQuery;
use crate::record::{customer_id, id_key, SeenIds};
use crate::snapshot::{binding, key, Slot, Snapshot, SnapshotBuilder};
use crate::transport::Transport;

/// How many customers a sync found in each state.
/// # Examples
///
/// In JavaScript, `stats` of a `SyncRun` (in Rust, `ChangeStream::stats`):
///
/// ```js
/// const run = client.sync(orgId, { snapshot });
/// for await (const change of run) apply(change);
/// console.log(run.stats); // { added: 3, changed: 12, removed: 1, unchanged: 7286 }
/// ```
#[derive(Tsify, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// New since the snapshot (every customer, without one).
    pub added: u64,
    /// Content differs from the snapshot.
    pub changed: u64,
    /// In the snapshot, gone now (confirmed by ID).
    pub removed: u64,
    /// The same as in the snapshot.
    pub unchanged: u64,
}

enum Phase {
    Listing,
    Confirming,
    Removing,
    Done,
}

/// Removed customers written per step.
const REMOVED_PER_STEP: usize = 1000;

/// One sync. See the module docs.
pub struct SyncRun<T: Transport + Clone> {
    transport: T,
    config: Rc<ClientConfig>,
    options: RunOptions,
    /// The query of the confirmation requests.
    confirm_query: CustomerQuery,
    binding: u64,
    previous: Snapshot,
    /// Slots of `previous` met in this sync (listed or confirmed).
    met: Vec<bool>,
    next: SnapshotBuilder,
    phase: Phase,
    run: Option<PageRun<T>>,
    /// Batches of `previous` slots still to confirm, and the one being confirmed.
    to_confirm: VecDeque<Vec<Slot>>,
    confirming: Vec<Slot>,
    /// Slots of `previous` not met: removed, once confirmation is over.
    removed: Vec<Slot>,
    stats: SyncStats,
    changes: Vec<u8>,
    change_count: usize,
    snapshot: Option<Vec<u8>>,
    started_at: f64,
    /// The organization synced, and the resellers whose customers the listing returned (by
    /// [`scope_key`]): the scope a confirmed customer must still be in.
    org_key: u64,
    resellers: SeenIds,
}

/// The key of an organization ID for scope checks: the API's IDs are UUIDs, whose case does
/// not matter.
fn scope_key(id: &[u8]) -> u64 {
    // Called for every listed record: no allocation for the API's lower-case IDs.
    if id.iter().any(u8::is_ascii_uppercase) {
        id_key(&id.to_ascii_lowercase())
    } else {
        id_key(id)
    }
}

/// Whether the 404 `message` names `id` as a whole word (IDs `c1` and `c10`: "c10 was not
/// found" names only `c10`). Both already lower-cased.
fn names_id(message: &str, id: &str) -> bool {
    let is_id_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let (m, n) = (message.as_bytes(), id.as_bytes());
    !n.is_empty()
        && (0..=m.len().saturating_sub(n.len()))
            .any(|i| m[i..].starts_with(n) && (i == 0 || !is_id_byte(m[i - 1])) && m.get(i + n.len()).is_none_or(|&b| !is_id_byte(b)))
}

impl<T: Transport + Clone> SyncRun<T> {
    /// A sync of `org_id` for `query`, from the stored `snapshot` bytes if any. A snapshot of
    /// another organization or query, or bytes that are not one, are `INVALID_ARGUMENT` here,
    /// before any request. Other arguments are assumed validated.
    pub fn new(
        transport: T,
        config: Rc<ClientConfig>,
        options: RunOptions,
        org_id: &str,
        query: CustomerQuery,
        snapshot: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let binding = binding(org_id, &query);
        let previous = match snapshot {
            Some(bytes) => Snapshot::decode(bytes, binding)?,
            None => Snapshot::default(),
        };
        let mut listing = PageRun::new(transport.clone(), config.clone(), options, Target::Org(org_id.to_string()), query.clone());
        listing.scanner().fingerprint_records();
        let started_at = listing.started_at();
        let confirm_query = CustomerQuery { include_child_organizations: Some(false), page: None, ..query };
        let previous_len = previous.len();
        Ok(SyncRun {
            met: vec![false; previous_len],
            transport,
            config,
            options,
            confirm_query,
            binding,
            previous,
            next: SnapshotBuilder::with_capacity(previous_len),
            phase: Phase::Listing,
            run: Some(listing),
            to_confirm: VecDeque::new(),
            confirming: Vec::new(),
            removed: Vec::new(),
            stats: SyncStats::default(),
            changes: Vec::new(),
            change_count: 0,
            snapshot: None,
            started_at,
            org_key: scope_key(org_id.trim().as_bytes()),
            resellers: SeenIds::default(),
        })
    }

    /// The counts so far.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// The next snapshot: set once the sync has completed, never before.
    pub fn snapshot(&self) -> Option<&[u8]> {
        self.snapshot.as_deref()
    }

    /// The transport (for the JS layer's cancellation).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Stop: no further requests; memory is released.
    pub fn close(&mut self) {
        if let Some(mut run) = self.run.take() {
            run.close();
        }
        self.phase = Phase::Done;
        self.changes = Vec::new();
    }

    /// Take the changes of the last step: a JSON array text and how many it holds.
    pub fn take_changes(&mut self) -> (&[u8], usize) {
        if self.change_count == 0 {
            return (b"[]", 0);
        }
        self.changes.push(b']');
        let n = std::mem::take(&mut self.change_count);
        (&self.changes, n)
    }

    /// Move on until there are changes to take (`true`) or the sync is over (`false`: the
    /// snapshot is ready). Call [`take_changes`](Self::take_changes) after each `true`.
    pub async fn advance(&mut self) -> Result<bool, Error> {
        self.changes.clear();
        self.change_count = 0;
        let result = self.step().await;
        if result.is_err() {
            self.close();
        }
        result
    }

    async fn step(&mut self) -> Result<bool, Error> {
        loop {
            match self.phase {
                Phase::Listing => {
                    let run = self.run.as_mut().expect("a listing run");
                    match run.advance().await? {
                        Some(_) => self.classify(false)?,
                        None => {
                            self.run = None;
                            self.plan_confirmation();
                            self.phase = Phase::Confirming;
                        }
                    }
                }
                Phase::Confirming => {
                    let Some(run) = self.run.as_mut() else {
                        match self.to_confirm.pop_front() {
                            Some(batch) => self.start_confirming(batch),
                            None => {
                                self.removed = (0..self.previous.len()).filter(|&s| !self.met[s]).collect();
                                self.removed.reverse(); // taken from the end: in snapshot order
                                self.phase = Phase::Removing;
                            }
                        }
                        continue;
                    };
                    match run.advance().await {
                        Ok(Some(_)) => self.classify(true)?,
                        Ok(None) => self.run = None,
                        Err(Error::NotFound { message, .. }) => {
                            self.run = None;
                            self.split_on_not_found(&message);
                        }
                        Err(e) => return Err(e),
                    }
                }
                Phase::Removing => {
                    for _ in 0..REMOVED_PER_STEP {
                        let Some(slot) = self.removed.pop() else { break };
                        self.stats.removed += 1;
                        open_change(&mut self.changes, &mut self.change_count);
                        self.changes.extend_from_slice(b"{\"type\":\"removed\",\"customerId\":");
                        quote_into(self.previous.id(slot).as_bytes(), &mut self.changes);
                        self.changes.push(b'}');
                    }
                    if self.change_count == 0 {
                        self.phase = Phase::Done;
                        let next = std::mem::take(&mut self.next).finish();
                        self.snapshot = Some(next.encode(self.binding));
                        self.previous = Snapshot::default();
                        self.met = Vec::new();
                    }
                }
                Phase::Done => return Ok(false),
            }
            if self.change_count > 0 {
                return Ok(true);
            }
        }
    }

    /// Sort the records the current run has ready into added / changed / unchanged. In
    /// confirmation, only customers of the snapshot not met yet count (others are ignored).
    fn classify(&mut self, confirming: bool) -> Result<(), Error> {
        let run = self.run.as_mut().expect("a run");
        for (record, content) in run.scanner().take_each_printed() {
            let Some(id) = customer_id(record)? else {
                return Err(Error::Decode("a customer record has no customerId string; sync needs one".into()));
            };
            let reseller = top_level_string(record, b"resellerId").map(scope_key);
            if !confirming {
                if let Some(r) = reseller {
                    self.resellers.insert_key(r);
                }
            } else if reseller.is_some_and(|r| r != self.org_key && !self.resellers.contains_key(r)) && scope_key(&id) != self.org_key {
                continue; // moved out of this organization: not met, so reported removed
            }
            let id_key = key(&id);
            let kind: &[u8] = match self.previous.find_key(id_key) {
                Some((slot, _)) if self.met[slot] => continue, // already met (a repeat)
                Some((slot, before)) => {
                    self.met[slot] = true;
                    if before == content {
                        self.stats.unchanged += 1;
                        self.next.push_key(id_key, content)?;
                        continue;
                    }
                    self.stats.changed += 1;
                    b"changed"
                }
                None if confirming => continue,
                None => {
                    self.stats.added += 1;
                    b"added"
                }
            };
            self.next.push_key(id_key, content)?;
            open_change(&mut self.changes, &mut self.change_count);
            self.changes.extend_from_slice(b"{\"type\":\"");
            self.changes.extend_from_slice(kind);
            self.changes.extend_from_slice(b"\",\"customerId\":");
            quote_into(&id, &mut self.changes);
            self.changes.extend_from_slice(b",\"customer\":");
            self.changes.extend_from_slice(record);
            self.changes.push(b'}');
        }
        Ok(())
    }

    /// The snapshot's customers the listing did not return, in batches for the POST form.
    fn plan_confirmation(&mut self) {
        let missing: Vec<Slot> = (0..self.previous.len()).filter(|&s| !self.met[s]).collect();
        let size = self.options.batch_size.max(1);
        self.to_confirm = missing.chunks(size).map(<[Slot]>::to_vec).collect();
    }

    fn start_confirming(&mut self, batch: Vec<Slot>) {
        let ids = batch.iter().map(|&s| self.previous.id(s)).collect();
        let mut run = PageRun::for_batch(
            self.transport.clone(),
            self.config.clone(),
            self.options,
            ids,
            0,
            self.confirm_query.clone(),
            self.started_at,
        );
        run.scanner().fingerprint_records();
        self.confirming = batch;
        self.run = Some(run);
    }

    /// A confirmation POST was a 404: one of its customers is gone. Take out the one the
    /// message names and ask again for the rest; if it names none, ask for each half.
    fn split_on_not_found(&mut self, message: &str) {
        let message = message.to_ascii_lowercase();
        let batch: Vec<Slot> = std::mem::take(&mut self.confirming).into_iter().filter(|&s| !self.met[s]).collect();
        let named = batch.iter().position(|&s| names_id(&message, &self.previous.id(s).to_ascii_lowercase()));
        match named {
            Some(k) => {
                let rest: Vec<Slot> = batch.iter().enumerate().filter(|&(i, _)| i != k).map(|(_, &s)| s).collect();
                if !rest.is_empty() {
                    self.to_confirm.push_front(rest);
                }
            }
            None if batch.len() > 1 => {
                let (a, b) = batch.split_at(batch.len() / 2);
                self.to_confirm.push_front(b.to_vec());
                self.to_confirm.push_front(a.to_vec());
            }
            // One customer the server does not know: removed (left unmet).
            None => {}
        }
    }
}

/// Open the next change of a step's JSON array: `[` before the first, `,` between.
fn open_change(changes: &mut Vec<u8>, count: &mut usize) {
    changes.push(if *count == 0 { b'[' } else { b',' });
    *count += 1;
}

#[cfg(test)]
mod tests {
    use super::names_id;

    #[test]
    fn a_404_names_whole_ids_only() {
        assert!(names_id("organization c10 was not found.", "c10"));
        assert!(!names_id("organization c10 was not found.", "c1"));
        assert!(!names_id("organization xc1 was not found.", "c1"));
        assert!(names_id("c1", "c1") && names_id("(c1)", "c1") && !names_id("c1-2", "c1"));
        assert!(!names_id("", "c1") && !names_id("anything", ""));
    }
}
