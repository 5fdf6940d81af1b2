//! Why: a new notice must be checked against every active notice on a line at once, and
//! the station keeps that set live (file, amend, cancel, expire) instead of rebuilding it.
//! An R-tree over boxes in longitude, latitude and time finds the few candidates, and the
//! rule of `conflict` decides. Both stations get the same sorted answer.
//!
//! With a million notices the cost of a check is memory traffic, not arithmetic, so the
//! layout follows it. Altitude is left out of the tree: a quarter of real notices have no
//! band (surface to unlimited), which made every node span all altitudes, so the fourth
//! dimension bought no pruning and cost a third of the tree's fan-out per level (1,648
//! leaf boxes read per check with it, 534 without). Each candidate is first decided from
//! a small `Hot` record kept in one array (exact window, band, the area's outer and inner
//! caps); only the pairs the caps cannot settle read the notice's edges.

use std::collections::{BTreeMap, BTreeSet};

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RStarInsertionStrategy, RTree, RTreeParams};
use time::OffsetDateTime;

use crate::bbox::{LonLatBox, area_boxes, expand};
use crate::conflict::{Separation, vertical_gap_m};
use crate::distance::{Bounds, PreparedArea, Reach, within_m};
use crate::model::{AltitudeBand, Notice};

/// Dimensions of an index box: longitude, latitude (degrees), time (Unix milliseconds).
type Point3 = [f64; 3];
type Entry = GeomWithData<Rectangle<Point3>, Slot>;

/// Where a stored notice lives in `ConflictIndex::slots` and `ConflictIndex::hot`.
type Slot = usize;

/// Node sizes of the tree. Wider nodes than rstar's default (3–6) make a shallower tree,
/// so a check follows fewer pointers to scattered nodes (a little faster with a million
/// notices: p99 0.89 against 1.10 ms on the 4-D tree of the time; 10–32 gained nothing
/// more), while an insert stays under 0.1 ms.
struct NodeParams;

impl RTreeParams for NodeParams {
    const MIN_SIZE: usize = 6;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// What a check reads of every candidate, kept together in one array so that most
/// candidates cost a cache line or two: the rule's time and altitude inputs, exactly, and
/// the caps of the area.
#[derive(Clone, Copy)]
struct Hot {
    start_ns: i128,
    end_ns: i128,
    band: AltitudeBand,
    bounds: Bounds,
}

impl Hot {
    fn of(notice: &Notice, area: &PreparedArea) -> Hot {
        Hot {
            start_ns: notice.start.unix_timestamp_nanos(),
            end_ns: notice.end.unix_timestamp_nanos(),
            band: notice.band(),
            bounds: area.bounds,
        }
    }
}

struct Stored<Id> {
    id: Id,
    notice: Notice,
    area: PreparedArea,
    /// The tree entries of this notice (one per polygon, more for boxes split at ±180).
    entries: Box<[Entry]>,
}

/// Active notices of one line, indexed for conflict queries under one `Separation`.
///
/// Kept live: `insert` (file or amend), `remove` (cancel), `remove_ended_before`
/// (expire) each cost O(log n) tree work, and `bulk_load` builds the whole index at
/// start-up in one packed pass.
pub struct ConflictIndex<Id> {
    sep: Separation,
    tree: RTree<Entry, NodeParams>,
    slots: Vec<Option<Stored<Id>>>,
    /// `Hot` of the notice in the same slot (stale for a free slot, which no tree entry names).
    hot: Vec<Hot>,
    free_slots: Vec<Slot>,
    keys: BTreeMap<Id, Slot>,
    by_end: BTreeSet<(i128, Slot)>,
}

/// Unix milliseconds, rounded down (`floor`) or up, so that tree boxes only ever grow.
fn millis(t: OffsetDateTime, up: bool) -> f64 {
    let ns = t.unix_timestamp_nanos();
    let ms = ns.div_euclid(1_000_000) + i128::from(up && ns.rem_euclid(1_000_000) != 0);
    ms as f64
}

fn entries_of(notice: &Notice, slot: Slot) -> Box<[Entry]> {
    let t = (millis(notice.start, false), millis(notice.end, true));
    let rect = |b: &LonLatBox| Rectangle::from_corners([b.0[0], b.0[1], t.0], [b.1[0], b.1[1], t.1]);
    area_boxes(&notice.area).iter().map(|b| GeomWithData::new(rect(b), slot)).collect()
}

/// The prepared areas of many notices, in order, on every core: at start-up this is most
/// of the work of loading the index (unit vectors, caps, the inner cap's search).
fn prepare_all<Id>(notices: &[(Id, Notice)]) -> Vec<PreparedArea> {
    let areas: Vec<&crate::model::Area> = notices.iter().map(|(_, n)| &n.area).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, PREPARE_THREADS_MAX);
    let chunk = areas.len().div_ceil(threads).max(PREPARE_CHUNK_MIN);
    std::thread::scope(|scope| {
        let handles: Vec<_> = areas
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|a| PreparedArea::new(a)).collect::<Vec<_>>()))
            .collect();
        // A panic in a worker is a bug in `PreparedArea::new`; surface it here.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Bounds of `prepare_all`: at most this many threads, each with at least this many
/// notices (a thread costs more than preparing a few hundred areas).
const PREPARE_THREADS_MAX: usize = 16;
const PREPARE_CHUNK_MIN: usize = 512;

impl<Id: Ord + Clone> ConflictIndex<Id> {
    pub fn new(sep: Separation) -> Self {
        ConflictIndex {
            sep,
            tree: RTree::new_with_params(),
            slots: Vec::new(),
            hot: Vec::new(),
            free_slots: Vec::new(),
            keys: BTreeMap::new(),
            by_end: BTreeSet::new(),
        }
    }

    /// Builds the index from many notices at once (start-up): a packed R-tree, faster to
    /// build and to query than one grown by `insert`. A repeated id keeps the last notice.
    pub fn bulk_load(sep: Separation, notices: impl IntoIterator<Item = (Id, Notice)>) -> Self {
        let notices: Vec<(Id, Notice)> = notices.into_iter().collect();
        let mut areas = prepare_all(&notices).into_iter();
        let mut index = ConflictIndex::new(sep);
        for (id, notice) in notices {
            let Some(area) = areas.next() else { break };
            if let Some(old) = index.keys.get(&id).copied() {
                index.release(old);
            }
            let slot = index.store_prepared(id, notice, area);
            debug_assert!(index.slots[slot].is_some());
        }
        let entries: Vec<Entry> = index.slots.iter().flatten().flat_map(|s| s.entries.iter().copied()).collect();
        index.tree = RTree::bulk_load_with_params(entries);
        index
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
        self.keys.get(id).and_then(|&slot| self.stored(slot)).map(|s| &s.notice)
    }

    /// Ids of all stored notices, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &Id> {
        self.keys.keys()
    }

    fn stored(&self, slot: Slot) -> Option<&Stored<Id>> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// Puts a notice in a free slot and the maps, not in the tree; returns the slot.
    fn store(&mut self, id: Id, notice: Notice) -> Slot {
        let area = PreparedArea::new(&notice.area);
        self.store_prepared(id, notice, area)
    }

    fn store_prepared(&mut self, id: Id, notice: Notice, area: PreparedArea) -> Slot {
        let hot = Hot::of(&notice, &area);
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.hot[s] = hot;
                s
            }
            None => {
                self.slots.push(None);
                self.hot.push(hot);
                self.slots.len() - 1
            }
        };
        debug_assert_eq!(self.slots.len(), self.hot.len());
        let entries = entries_of(&notice, slot);
        self.keys.insert(id.clone(), slot);
        self.by_end.insert((hot.end_ns, slot));
        self.slots[slot] = Some(Stored { id, notice, area, entries });
        slot
    }

    /// Takes a notice out of the slots and maps (not the tree) and frees its slot.
    fn release(&mut self, slot: Slot) -> Option<Stored<Id>> {
        let stored = self.slots.get_mut(slot)?.take()?;
        self.keys.remove(&stored.id);
        self.by_end.remove(&(self.hot[slot].end_ns, slot));
        self.free_slots.push(slot);
        Some(stored)
    }

    /// Adds a notice, replacing any notice already stored under `id` (an amendment).
    pub fn insert(&mut self, id: Id, notice: Notice) {
        self.remove(&id);
        let slot = self.store(id, notice);
        if let Some(s) = self.stored(slot) {
            for e in s.entries.clone() {
                self.tree.insert(e);
            }
        }
    }

    /// Removes a notice (cancelled or expired); returns it if it was there.
    pub fn remove(&mut self, id: &Id) -> Option<Notice> {
        let slot = *self.keys.get(id)?;
        let stored = self.release(slot)?;
        for e in stored.entries.iter() {
            let removed = self.tree.remove(e);
            debug_assert!(removed.is_some(), "every stored notice has its boxes in the tree");
        }
        Some(stored.notice)
    }

    /// Removes every notice whose window ended strictly before `t_ms` (Unix
    /// milliseconds) and returns their ids, sorted. A station that keeps notices until
    /// their time buffer has passed calls it with `now_ms - time_buffer_ms`.
    pub fn remove_ended_before(&mut self, t_ms: i64) -> Vec<Id> {
        let cutoff_ns = i128::from(t_ms) * 1_000_000;
        let ended: Vec<Slot> = self.by_end.range(..(cutoff_ns, 0)).map(|&(_, slot)| slot).collect();
        let mut ids = Vec::with_capacity(ended.len());
        for slot in ended {
            if let Some(id) = self.stored(slot).map(|s| s.id.clone()) {
                self.remove(&id);
                ids.push(id);
            }
        }
        ids.sort();
        ids
    }

    /// Ids of stored notices that conflict with `notice`, sorted. A notice stored in the
    /// index is reported against itself too; callers leave out its own id.
    ///
    /// The same rule as `conflict::conflict_prepared`, in the order that reads least
    /// memory: window and band from `Hot`, then the caps, then (for the pairs the caps
    /// leave open) the edges. `index_matches_brute_force_on_random_notices` holds it to
    /// the plain rule.
    pub fn conflicts_of(&self, notice: &Notice) -> Vec<Id> {
        let area = PreparedArea::new(&notice.area);
        let query = Hot::of(notice, &area);
        let buffer_ns = self.sep.time_buffer.whole_nanoseconds();
        let reach = Reach::of(self.sep.lateral_m);
        // In passes, so that the loads of each pass are independent of one another and
        // the processor overlaps their cache misses: gather the candidates' `Hot`
        // records, decide what the window, band and caps decide, measure the rest, and
        // only then fetch the ids of the conflicting ones.
        let hots: Vec<(Slot, Hot)> =
            self.candidates(notice).into_iter().filter_map(|slot| self.hot.get(slot).map(|h| (slot, *h))).collect();
        let mut conflicting: Vec<Slot> = Vec::with_capacity(hots.len());
        let mut open: Vec<(Slot, Bounds)> = Vec::new();
        for (slot, hot) in hots {
            let time_gap_ns = (hot.start_ns - query.end_ns).max(query.start_ns - hot.end_ns).max(0);
            if time_gap_ns > buffer_ns || vertical_gap_m(query.band, hot.band) > self.sep.vertical_m {
                continue;
            }
            match query.bounds.settle(&hot.bounds, &reach) {
                Some(true) => conflicting.push(slot),
                Some(false) => {}
                None => open.push((slot, hot.bounds)),
            }
        }
        let mut near = Vec::new();
        for (slot, bounds) in open {
            let conflicts = match area.settle_against(&bounds, &reach, &mut near) {
                Some(settled) => settled,
                None => self.stored(slot).is_some_and(|s| within_m(&area, &s.area, self.sep.lateral_m)),
            };
            if conflicts {
                conflicting.push(slot);
            }
        }
        let mut ids: Vec<Id> =
            conflicting.into_iter().filter_map(|slot| self.stored(slot).map(|s| s.id.clone())).collect();
        ids.sort();
        ids
    }

    /// Slots whose boxes meet the query boxes: `notice`'s boxes widened by the lateral
    /// separation and its window by the time buffer. Sorted, without repeats.
    fn candidates(&self, notice: &Notice) -> Vec<Slot> {
        let buffer_ms = self.sep.time_buffer.whole_milliseconds() as f64;
        let t = (millis(notice.start, false) - buffer_ms, millis(notice.end, true) + buffer_ms);
        let mut slots: Vec<Slot> = Vec::new();
        for b in area_boxes(&notice.area) {
            for q in expand(b, self.sep.lateral_m) {
                let env = AABB::from_corners([q.0[0], q.0[1], t.0], [q.1[0], q.1[1], t.1]);
                slots.extend(self.tree.locate_in_envelope_intersecting(&env).map(|e| e.data));
            }
        }
        slots.sort_unstable();
        slots.dedup();
        slots
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
        for s in self.slots.iter().flatten() {
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
