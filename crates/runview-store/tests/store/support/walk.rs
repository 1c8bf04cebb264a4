//! Reading a list page by page the way the presenter will: `PageRequest::for_page`, the stores'
//! rows, `page::assemble`, and the neighbouring page's keyset as the next cursor.

use runview_core::page::{Cursor, Direction, Keyset, PageRequest, Scan, assemble};

/// More pages than any test reads: a walk that goes on longer is stuck.
const MAX_PAGES: usize = 500;

/// Reads pages until `walk` ends, with page sizes from `sizes` in turn; `read(page, request)`
/// answers with the stores' rows (or scan). Returns each page's size and items.
pub async fn walk_to_end<T, R: Into<Scan<T>>>(
    walk: &mut PageWalk,
    sizes: &[usize],
    key: impl Fn(&T) -> Keyset,
    mut read: impl AsyncFnMut(usize, &PageRequest) -> R,
) -> Vec<(usize, Vec<T>)> {
    let mut pages = Vec::new();
    let sizes = sizes.iter().copied().cycle().enumerate().take(MAX_PAGES);
    for (page, size) in sizes {
        let Some(request) = walk.request(size) else {
            return pages;
        };
        let rows = read(page, &request).await;
        pages.push((size, walk.read(rows, &request, size, &key)));
    }
    panic!("the walk did not end within {MAX_PAGES} pages");
}

/// Where a walk through a list is.
pub struct PageWalk {
    /// The cursor of the next page; `None` once the walk reached the end.
    next: Option<Option<Cursor>>,
    /// Where a walk the other way starts from the last page read.
    turn_back: Option<Keyset>,
}

impl PageWalk {
    /// From the newest record toward the oldest.
    pub fn forward() -> Self {
        Self {
            next: Some(None),
            turn_back: None,
        }
    }

    /// From `keyset` toward the newest record.
    pub fn backward_from(keyset: Keyset) -> Self {
        let direction = Direction::Backward;
        Self {
            next: Some(Some(Cursor { keyset, direction })),
            turn_back: None,
        }
    }

    /// What to ask the stores for a page of `size`, or `None` at the end.
    pub fn request(&self, size: usize) -> Option<PageRequest> {
        let cursor = self.next.clone()?;
        Some(PageRequest::for_page(cursor, size))
    }

    /// The page the stores' `rows` for `request` make, newest first, and moves on.
    pub fn read<T>(
        &mut self,
        rows: impl Into<Scan<T>>,
        request: &PageRequest,
        size: usize,
        key: impl Fn(&T) -> Keyset,
    ) -> Vec<T> {
        let page = assemble(rows.into(), request, size, key);
        let direction = request.direction();
        let (onward, back) = match direction {
            Direction::Forward => (page.next, page.previous),
            Direction::Backward => (page.previous, page.next),
        };
        self.next = onward.map(|keyset| Some(Cursor { keyset, direction }));
        self.turn_back = back;
        page.items
    }

    pub fn turn_back(&self) -> Option<Keyset> {
        self.turn_back.clone()
    }
}
