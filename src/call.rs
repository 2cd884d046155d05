//! A call, from its arguments to its run: [`check`] and [`prepare`] validate everything a
//! caller passed — once, for the JS and the Rust API alike, before anything is sent — and
//! [`start`] makes the run a [`Cursor`]: a listing, concurrent ID batches, or (through
//! [`crate::sync::SyncRun`]) a sync. Generic over [`Transport`] and tested on the host; the
//! clients only read their arguments and hand them here.

use std::cell::RefCell;
use std::rc::Rc;

use crate::batches::{batches, BatchPump};
use crate::continuation::Continuation;
use crate::cursor::{Cursor, Source};
use crate::error::Error;
use crate::pager::{ClientConfig, PageRun, RunOptions, Target, MAX_CONCURRENCY};
use crate::query::{validate_org_id, CustomerQuery};
use crate::record::SeenIds;
use crate::transport::Transport;

/// ID batches `customersByIds` runs at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A call's target, query and run settings, checked by [`check`].
#[derive(Clone, Debug)]
pub struct CheckedRun {
    /// What the run fetches.
    pub target: Target,
    /// Its query.
    pub query: CustomerQuery,
    /// Its settings.
    pub options: RunOptions,
}

/// A listing call, checked, with what the call adds to a run: how many ID batches run at once
/// and, resumed from a continuation token, the customer handed out just before it. Made by
/// [`prepare`], started (any number of times: each a fresh run) by [`start`].
#[derive(Clone, Debug)]
pub struct PreparedCall {
    /// Target, query and settings.
    pub checked: CheckedRun,
    /// ID batches fetched at once.
    pub concurrency: usize,
    /// Resumed from a continuation token: the [`crate::record::id_key`] of the last customer
    /// handed out before it.
    pub resumed_after: Option<u64>,
}

/// Check what a run will fetch, and its settings, before anything is sent.
pub fn check(target: Target, query: CustomerQuery, options: RunOptions) -> Result<CheckedRun, Error> {
    query.validate()?;
    match &target {
        Target::Org(id) => validate_org_id(id)?,
        Target::Ids(batches) => batches.iter().flatten().try_for_each(|id| validate_org_id(id))?,
    }
    options.validate()?;
    Ok(CheckedRun { target, query, options })
}

/// Check a listing call: the target, query and run settings ([`check`]), the continuation
/// token (same organization and query; not with `page`), and `concurrency` (1 to
/// [`MAX_CONCURRENCY`]). `Target::Ids` holds one list of unique IDs, cut here into batches of
/// the run's `batch_size`.
pub fn prepare(
    target: Target,
    mut query: CustomerQuery,
    run: RunOptions,
    continuation_token: Option<&str>,
    concurrency: usize,
) -> Result<PreparedCall, Error> {
    let mut resumed_after = None;
    if let Some(token) = continuation_token {
        let Target::Org(org) = &target else {
            return Err(Error::InvalidArgument("continuationToken resumes `customers(orgId)` only".into()));
        };
        if query.page.is_some() {
            return Err(Error::InvalidArgument("pass either page or continuationToken, not both".into()));
        }
        let resume = Continuation::decode(token, org, &query)?;
        query.page = Some(resume.page);
        resumed_after = resume.last_id;
    }
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return Err(Error::InvalidArgument(format!("concurrency must be a whole number from 1 to {MAX_CONCURRENCY}")));
    }
    run.validate()?;
    let target = match target {
        Target::Ids(mut lists) if !lists.is_empty() => Target::batches(lists.remove(0), run.batch_size),
        t => t,
    };
    Ok(PreparedCall { checked: check(target, query, run)?, concurrency, resumed_after })
}

/// Start a prepared call over `transport`: a fresh run from its first page (or from where its
/// token resumes) as a [`Cursor`]. Concurrent ID batches hand their pump to `spawn` (the
/// runtime's: `spawn_local` in wasm, a local pool in tests); `started_at` is the run's start
/// for `deadlineMs`, shared by its batches.
pub fn start<T: Transport + Clone + 'static>(
    transport: T,
    config: Rc<ClientConfig>,
    call: &PreparedCall,
    started_at: f64,
    spawn: impl FnOnce(BatchPump<T>),
) -> Cursor<T> {
    let CheckedRun { target, query, options } = &call.checked;
    match target {
        Target::Ids(list) if list.len() > 1 && call.concurrency > 1 => {
            // Each batch is its own run; all share the caller's signal and the stop
            // controller (a clone of the transport shares it), so one stop ends them all.
            let seen = Rc::default();
            let runs = list
                .iter()
                .enumerate()
                .map(|(i, ids)| {
                    PageRun::for_batch(transport.clone(), config.clone(), *options, ids.clone(), i, query.clone(), started_at)
                        .sharing_seen(Rc::clone(&seen))
                })
                .collect();
            let (batches, pump) = batches(runs, call.concurrency);
            spawn(pump);
            Cursor::new(Source::Batches(batches), None)
        }
        Target::Org(org) => {
            let mut seen = SeenIds::default();
            if let Some(key) = call.resumed_after {
                seen.insert_key(key);
            }
            let run = PageRun::new(transport, config, *options, target.clone(), query.clone()).sharing_seen(Rc::new(RefCell::new(seen)));
            Cursor::new(Source::Listing(run), Some((org.clone(), query.clone())))
        }
        Target::Ids(_) => Cursor::new(Source::Listing(PageRun::new(transport, config, *options, target.clone(), query.clone())), None),
    }
}
