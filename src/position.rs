//! Where a run is — its page, its ID batch, the pages done — and where it goes when a page
//! ends: the next page, the next batch, the end, or an error the run ends with once the
//! page's records are taken. The page-position state machine of a `PageRun`, pure and tested
//! on the host.

use crate::error::Error;

/// A run's position. See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Position {
    /// The page being fetched (1-based, or where the query or a continuation token started).
    pub page: u32,
    /// The ID batch being fetched (`Target::Ids`), else 0.
    pub batch: usize,
    /// Pages completed in this run, for `maxPages`.
    pub pages_done: u32,
    /// The previous page's first record, to notice a server that ignores `page`.
    pub previous_first: Option<u64>,
    /// No page is left to fetch.
    pub finished: bool,
    /// Where each batch starts.
    first_page: u32,
}

impl Position {
    pub fn new(first_page: u32, finished: bool) -> Self {
        Position { page: first_page, batch: 0, pages_done: 0, previous_first: None, finished, first_page }
    }

    /// The current page ended with `items` records, the first of them `first`. A page shorter
    /// than `page_size` ends its batch (`batches`: how many there are; `None` for an
    /// organization's listing, which has one). Returns the error the run ends with after this
    /// page's records: a full page with no page number after it, or `max_pages` reached.
    pub fn page_ended(
        &mut self,
        items: u64,
        page_size: u32,
        batches: Option<usize>,
        max_pages: Option<u32>,
        first: Option<u64>,
    ) -> Option<Error> {
        self.pages_done = self.pages_done.saturating_add(1);
        self.previous_first = first;
        if items < page_size as u64 {
            self.batch += 1;
            self.page = self.first_page;
            self.previous_first = None;
            self.finished = batches.is_none_or(|n| self.batch >= n);
        } else {
            match self.page.checked_add(1) {
                Some(next) => self.page = next,
                None => return Some(Error::Pagination(format!("page {} was full and there is no page number after it", self.page))),
            }
        }
        match max_pages.filter(|max| !self.finished && self.pages_done >= *max) {
            Some(max) => {
                Some(Error::Pagination(format!("the run needs more than maxPages ({max}) pages; raise maxPages or narrow the query")))
            }
            None => None,
        }
    }

    /// Whether a page starting with record `first` repeats the page before (a server that
    /// ignores `page`).
    pub fn repeats_previous(&self, first: Option<u64>) -> bool {
        first.is_some() && first == self.previous_first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_then_batches_then_the_end() {
        let mut p = Position::new(1, false);
        assert_eq!(p.page_ended(10, 10, None, None, Some(7)), None);
        assert_eq!((p.page, p.batch, p.finished, p.previous_first), (2, 0, false, Some(7)));
        assert!(p.repeats_previous(Some(7)) && !p.repeats_previous(Some(8)) && !p.repeats_previous(None));
        assert_eq!(p.page_ended(3, 10, None, None, Some(9)), None);
        assert_eq!((p.page, p.finished, p.previous_first), (1, true, None), "a short page ends an organization's listing");

        let mut ids = Position::new(1, false);
        ids.page_ended(2, 10, Some(2), None, Some(1));
        assert_eq!((ids.page, ids.batch, ids.finished), (1, 1, false), "the next batch from its first page");
        ids.page_ended(0, 10, Some(2), None, None);
        assert!(ids.finished);
    }

    #[test]
    fn max_pages_and_the_last_page_number_end_a_run_after_the_page() {
        let mut p = Position::new(1, false);
        assert_eq!(p.page_ended(10, 10, None, Some(2), None), None);
        assert_eq!(p.page_ended(10, 10, None, Some(2), None).map(|e| e.code()), Some("PAGINATION"));
        let mut last = Position::new(u32::MAX, false);
        assert_eq!(last.page_ended(10, 10, None, None, None).map(|e| e.code()), Some("PAGINATION"));
        let mut short = Position::new(1, false);
        assert_eq!(short.page_ended(5, 10, None, Some(1), None), None, "a run that ended needs no more pages");
    }
}
