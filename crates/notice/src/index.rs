//! Why: a new notice must be checked against every active notice on a line at once; an
//! R-tree over longitude/latitude boxes and time finds the few candidates, and the exact
//! rule in `conflict` decides. Both stations get the same sorted answer.

use std::collections::BTreeMap;

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use time::OffsetDateTime;

use crate::bbox::{LonLatBox, area_boxes, expand};
use crate::conflict::{Separation, conflict_prepared};
use crate::distance::PreparedArea;
use crate::model::Notice;

type Entry3 = GeomWithData<Rectangle<[f64; 3]>, u64>;

struct Stored<Id> {
    id: Id,
    notice: Notice,
    area: PreparedArea,
    rects: Vec<Entry3>,
}

/// Active notices of one line, indexed for conflict queries under one `Separation`.
pub struct ConflictIndex<Id> {
    sep: Separation,
    tree: RTree<Entry3>,
    stored: BTreeMap<u64, Stored<Id>>,
    keys: BTreeMap<Id, u64>,
    next_key: u64,
}

fn seconds(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

fn rect(b: &LonLatBox, t0: f64, t1: f64) -> Rectangle<[f64; 3]> {
    Rectangle::from_corners([b.0[0], b.0[1], t0], [b.1[0], b.1[1], t1])
}

impl<Id: Ord + Clone> ConflictIndex<Id> {
    pub fn new(sep: Separation) -> Self {
        ConflictIndex { sep, tree: RTree::new(), stored: BTreeMap::new(), keys: BTreeMap::new(), next_key: 0 }
    }

    pub fn separation(&self) -> &Separation {
        &self.sep
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn get(&self, id: &Id) -> Option<&Notice> {
        self.keys.get(id).and_then(|k| self.stored.get(k)).map(|s| &s.notice)
    }

    /// Adds a notice, replacing any notice already stored under `id` (an amendment).
    pub fn insert(&mut self, id: Id, notice: Notice) {
        self.remove(&id);
        let key = self.next_key;
        self.next_key += 1;
        let (t0, t1) = (seconds(notice.start), seconds(notice.end));
        let rects: Vec<Entry3> =
            area_boxes(&notice.area).iter().map(|b| GeomWithData::new(rect(b, t0, t1), key)).collect();
        for r in &rects {
            self.tree.insert(*r);
        }
        let area = PreparedArea::new(&notice.area);
        self.keys.insert(id.clone(), key);
        self.stored.insert(key, Stored { id, notice, area, rects });
    }

    /// Removes a notice (cancelled or expired); returns it if it was there.
    pub fn remove(&mut self, id: &Id) -> Option<Notice> {
        let key = self.keys.remove(id)?;
        let stored = self.stored.remove(&key)?;
        for r in &stored.rects {
            self.tree.remove(r);
        }
        Some(stored.notice)
    }

    /// Ids of stored notices that conflict with `notice`, sorted. A notice stored in the
    /// index is reported against itself too; callers leave out its own id.
    pub fn conflicts_of(&self, notice: &Notice) -> Vec<Id> {
        let buffer = self.sep.time_buffer.as_seconds_f64();
        let (t0, t1) = (seconds(notice.start) - buffer, seconds(notice.end) + buffer);
        let mut keys: Vec<u64> = Vec::new();
        for b in area_boxes(&notice.area) {
            for q in expand(b, self.sep.lateral_m) {
                let env = AABB::from_corners([q.0[0], q.0[1], t0], [q.1[0], q.1[1], t1]);
                keys.extend(self.tree.locate_in_envelope_intersecting(&env).map(|e| e.data));
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let area = PreparedArea::new(&notice.area);
        let mut ids: Vec<Id> = keys
            .iter()
            .filter_map(|k| self.stored.get(k))
            .filter(|s| conflict_prepared(notice, &area, &s.notice, &s.area, &self.sep).is_some())
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Ids of the other stored notices that conflict with the one stored under `id`
    /// (empty when `id` is not stored), sorted.
    pub fn conflicts_of_id(&self, id: &Id) -> Vec<Id> {
        match self.get(id) {
            Some(n) => self.conflicts_of(n).into_iter().filter(|other| other != id).collect(),
            None => Vec::new(),
        }
    }

    /// Every conflicting pair among the stored notices, each as (smaller id, larger id),
    /// sorted: the set both stations must agree on.
    pub fn all_conflicts(&self) -> Vec<(Id, Id)> {
        let mut out = Vec::new();
        for s in self.stored.values() {
            for other in self.conflicts_of(&s.notice) {
                if s.id < other {
                    out.push((s.id.clone(), other));
                }
            }
        }
        out.sort();
        out
    }
}
