//! The order of a listing: the `?sort=…&order=…` query read into a
//! [`SortOrder`], and the entries sorted by it (directories first, ties by
//! name).

use std::cmp::Ordering;

use super::Entry;
use crate::request::QueryMap;

/// The column a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// File name.
    Name,
    /// Size in bytes.
    Size,
    /// Modification time.
    Modified,
}

impl SortKey {
    fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Modified => "modified",
        }
    }

    /// The order a column is first sorted in when its header is clicked:
    /// names A to Z, sizes and times largest / newest first.
    pub(super) fn first_descending(self) -> bool {
        self != SortKey::Name
    }
}

/// A sort order: a column and a direction. The default is name, ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortOrder {
    /// The column.
    pub key: SortKey,
    /// Largest / newest / Z first.
    pub descending: bool,
}

impl Default for SortOrder {
    fn default() -> SortOrder {
        SortOrder {
            key: SortKey::Name,
            descending: false,
        }
    }
}

impl SortOrder {
    /// The query string selecting this order, `?sort=size&order=desc`.
    pub(super) fn query(self) -> String {
        let order = if self.descending { "desc" } else { "asc" };
        format!("?sort={}&order={order}", self.key.as_str())
    }

    /// The order the header link of `key` switches to: the other direction
    /// for the current column, the column's first direction for another.
    pub(super) fn toggled(self, key: SortKey) -> SortOrder {
        let descending = if key == self.key {
            !self.descending
        } else {
            key.first_descending()
        };
        SortOrder { key, descending }
    }
}

/// The sort order asked for by a query string (without the `?`):
/// `sort=name|size|modified` and `order=asc|desc`, ASCII case-insensitive.
/// Missing or unknown values are the default (name, ascending); this never
/// fails.
pub(crate) fn sort_order(query: Option<&str>) -> SortOrder {
    let mut order = SortOrder::default();
    let Some(query) = query else {
        return order;
    };
    let query = QueryMap::parse(query);
    let is = |name: &str, value: &str| {
        query
            .get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
    };
    if is("sort", "size") {
        order.key = SortKey::Size;
    } else if is("sort", "modified") {
        order.key = SortKey::Modified;
    }
    order.descending = is("order", "desc");
    order
}

/// Sorts `entries` by `order`, directories first, ties by name ascending.
pub(crate) fn sort(entries: &mut [Entry], order: SortOrder) {
    entries.sort_by(|a, b| {
        let by_key = match order.key {
            SortKey::Name => cmp_names(&a.name, &b.name),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Modified => a.modified.cmp(&b.modified),
        };
        let by_key = if order.descending {
            by_key.reverse()
        } else {
            by_key
        };
        b.is_dir()
            .cmp(&a.is_dir())
            .then(by_key)
            .then_with(|| cmp_names(&a.name, &b.name))
    });
}

/// Case-insensitive, then exact (so the order is total).
fn cmp_names(a: &str, b: &str) -> Ordering {
    let fold = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<Vec<_>>();
    fold(a).cmp(&fold(b)).then_with(|| a.cmp(b))
}
