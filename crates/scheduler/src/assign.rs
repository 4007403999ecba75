//! Stage 3b: assignment — every resource gets a node (or none), in priority order,
//! colocation primaries before their dependents, dependents' preferences pulled into their
//! primaries' choices.

use tandem_cib::options::PlacementStrategy;
use tandem_cib::{Role, Score};

use crate::constraints::{Coloc, Constraints};
use crate::model::{NodeIx, RscIx, Variant, World};
use crate::utilization::Capacity;

/// The deepest nesting of primaries assigned on behalf of their dependents.
pub const MAX_ASSIGN_DEPTH: usize = 256;

/// The deepest chain of colocations followed when pulling dependents' preferences.
pub const MAX_COLOC_DEPTH: usize = 32;

/// One printed allocation score line's data: (function, resource id, node, score).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreLine {
    pub stage: &'static str,
    pub rsc: String,
    pub node: String,
    pub score: Score,
}

/// The state of the assignment pass.
pub struct Assigner<'a> {
    pub w: &'a mut World,
    pub cons: &'a Constraints,
    pub capacity: Capacity,
    pub strategy: PlacementStrategy,
    /// `stop-all-resources`: stop everything.
    pub stop_all: bool,
    /// No quorum and the policy stops resources (those that need quorum).
    pub quorum_stop: bool,
    /// No quorum and policy freeze: resources stay where they are, nothing starts.
    pub freeze: bool,
    pub lines: Vec<ScoreLine>,
    /// Current nesting of `assign` (primaries assigned from their dependents).
    pub depth: usize,
}

type Table = Vec<Option<Score>>;

impl Assigner<'_> {
    /// Assigns every resource.
    pub fn run(&mut self) {
        let order = self.sorted_tops();
        for r in order {
            self.assign(r);
        }
    }

    /// Assignment order: higher priority first; then the higher score on the node a resource
    /// is active on (inactive resources count 0); then configuration order.
    fn sorted_tops(&self) -> Vec<RscIx> {
        let w = &*self.w;
        let key = |r: RscIx| -> (i64, Score) {
            let prims = w.primitives_of(r);
            // Active where it may stay: on a node that can still run resources.
            let current = prims
                .iter()
                .find_map(|&p| w.rscs[p].current())
                .filter(|&n| w.nodes[n].usable);
            // A clone is judged by its own table (its instances' stickiness is theirs).
            let table_of = if w.rscs[r].variant == Variant::Clone {
                Some(r)
            } else {
                prims.first().copied()
            };
            let score = table_of
                .map(|t| match current {
                    Some(n) => w.rscs[t].allowed[n].unwrap_or(Score::MINUS_INFINITY),
                    // Inactive resources keep configuration order among themselves.
                    None => Score::ZERO,
                })
                .unwrap_or(Score::MINUS_INFINITY);
            (w.rscs[r].priority, score)
        };
        let mut tops: Vec<(usize, RscIx, (i64, Score))> = w
            .tops
            .iter()
            .enumerate()
            .map(|(i, &r)| (i, r, key(r)))
            .collect();
        tops.sort_by(|(ia, _, (pa, sa)), (ib, _, (pb, sb))| {
            pb.cmp(pa).then(sb.cmp(sa)).then(ia.cmp(ib))
        });
        tops.into_iter().map(|(_, r, _)| r).collect()
    }

    /// Assigns the unit `r` belongs to (its group or clone), then `r`.
    pub fn assign(&mut self, r: RscIx) {
        let unit = self.unit_of(r);
        // Primaries are assigned before dependents, recursively; a pathological chain of
        // colocations must not exhaust the stack. Past the limit a primary is assigned when
        // its own turn comes, and its dependents see it as not yet placed.
        if self.depth >= MAX_ASSIGN_DEPTH {
            return;
        }
        self.depth += 1;
        match self.w.rscs[unit].variant {
            Variant::Primitive => {
                self.assign_primitive(unit);
            }
            Variant::Group => self.assign_group(unit),
            Variant::Clone => crate::assign_clone::assign_clone(self, unit),
        }
        self.depth -= 1;
    }

    /// The resource whose assignment decides `r`: the outermost group or clone.
    pub fn unit_of(&self, r: RscIx) -> RscIx {
        let mut at = r;
        let mut unit = r;
        while let Some(p) = self.w.rscs[at].parent {
            unit = p;
            at = p;
        }
        unit
    }

    fn assign_group(&mut self, g: RscIx) {
        if self.w.rscs[g].assigned_done || self.w.rscs[g].assigning {
            return;
        }
        self.w.rscs[g].assigning = true;
        self.log_table("pcmk__group_assign", g);
        for m in self.w.rscs[g].children.clone() {
            self.log_table("pcmk__group_assign", m);
        }
        let members = self.w.rscs[g].children.clone();
        for m in members {
            self.assign_primitive(m);
        }
        let first = self.w.rscs[g].children.first().copied();
        let node = first.and_then(|f| self.w_assigned(f));
        self.w.rscs[g].assigned = node;
        let rsc = &mut self.w.rscs[g];
        rsc.assigning = false;
        rsc.assigned_done = true;
    }

    fn w_assigned(&self, r: RscIx) -> Option<NodeIx> {
        self.w.rscs[r].assigned
    }

    /// Applies the colocations where `r` (or a container of it) is the dependent, assigning
    /// their primaries first.
    pub fn apply_dependent_colocations(&mut self, r: RscIx) {
        let mut chain = vec![r];
        let mut at = r;
        while let Some(p) = self.w.rscs[at].parent {
            if self.w.rscs[p].variant == Variant::Clone {
                break;
            }
            chain.push(p);
            at = p;
        }
        for owner in chain {
            for &ci in &self.cons.as_dependent[owner] {
                let c = self.cons.colocs[ci].clone();
                if !self.is_first_or_self(owner, r, &c) {
                    continue;
                }
                self.assign(c.primary);
                // A colocation loop: the primary is waiting on us; it cannot constrain us.
                if self.in_progress(c.primary) {
                    continue;
                }
                self.apply_coloc(r, &c);
            }
        }
    }

    /// Whether `r` (or the unit deciding it) is being assigned right now.
    fn in_progress(&self, r: RscIx) -> bool {
        let unit = self.unit_of(r);
        (self.w.rscs[r].assigning || self.w.rscs[unit].assigning) && !self.w.rscs[r].assigned_done
    }

    /// Group-level colocations apply to the group's first member only (the others follow it).
    fn is_first_or_self(&self, owner: RscIx, r: RscIx, _c: &Coloc) -> bool {
        if owner == r {
            return true;
        }
        self.w.rscs[owner].children.first() == Some(&r)
    }

    /// Nodes where the primary of a colocation is (or will be) active in the required role.
    pub fn primary_nodes(&self, c: &Coloc) -> Vec<NodeIx> {
        let p = &self.w.rscs[c.primary];
        match p.variant {
            Variant::Primitive => p.assigned.into_iter().collect(),
            Variant::Group => p
                .children
                .first()
                .and_then(|&f| self.w.rscs[f].assigned)
                .into_iter()
                .collect(),
            Variant::Clone => {
                let mut v: Vec<NodeIx> = p
                    .children
                    .iter()
                    .filter_map(|&i| self.instance_node(i))
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        }
    }

    pub fn instance_node(&self, i: RscIx) -> Option<NodeIx> {
        let r = &self.w.rscs[i];
        match r.variant {
            Variant::Primitive => r.assigned,
            _ => r.children.first().and_then(|&f| self.w.rscs[f].assigned),
        }
    }

    /// Applies one colocation to the dependent's table (`r` is the primitive, or the clone,
    /// being assigned).
    pub fn apply_coloc(&mut self, r: RscIx, c: &Coloc) {
        if c.primary_role
            .is_some_and(|x| x == Role::Promoted || x == Role::Unpromoted)
            || c.dependent_role
                .is_some_and(|x| x == Role::Promoted || x == Role::Unpromoted)
        {
            return;
        }
        let nodes = self.primary_nodes(c);
        let values: Vec<Option<String>> = nodes
            .iter()
            .map(|&n| self.w.nodes[n].attr(&c.node_attribute).map(str::to_string))
            .collect();
        let matches = |w: &World, n: NodeIx| {
            let v = w.nodes[n].attr(&c.node_attribute).map(str::to_string);
            v.is_some() && values.contains(&v)
        };
        let count = self.w.nodes.len();
        for n in 0..count {
            let m = matches(self.w, n);
            let delta = if c.score.is_plus_infinity() {
                (!m).then_some(Score::MINUS_INFINITY)
            } else if c.score.is_minus_infinity() {
                m.then_some(Score::MINUS_INFINITY)
            } else if m {
                Some(c.score)
            } else {
                None
            };
            if let Some(d) = delta {
                add_to(self.w, r, n, d, c.score.is_infinite());
            }
        }
    }

    /// A primitive's table with the preferences of resources colocated with it merged in.
    pub fn merged_table(&self, r: RscIx) -> Table {
        let mut table = self.w.rscs[r].allowed.clone();
        let mut visited = vec![r];
        self.add_dependents(r, &mut table, 1.0, &mut visited, 0);
        table
    }

    fn dependents_of(&self, r: RscIx) -> Vec<usize> {
        let mut out: Vec<usize> = self.cons.as_primary[r].clone();
        if let Some(p) = self.w.rscs[r].parent
            && self.w.rscs[p].variant == Variant::Group
            && self.w.rscs[p].children.first() == Some(&r)
        {
            out.extend(self.cons.as_primary[p].iter().copied());
        }
        out
    }

    fn add_dependents(
        &self,
        r: RscIx,
        table: &mut Table,
        factor: f64,
        visited: &mut Vec<RscIx>,
        depth: usize,
    ) {
        if depth > MAX_COLOC_DEPTH {
            return;
        }
        for ci in self.dependents_of(r) {
            let c = &self.cons.colocs[ci];
            if !c.influence || c.score == Score::ZERO {
                continue;
            }
            let dep = self.first_primitive(c.dependent);
            let Some(dep) = dep else { continue };
            if visited.contains(&dep) || self.w.rscs[dep].assigned_done {
                continue;
            }
            if c.primary_role
                .is_some_and(|x| x == Role::Promoted || x == Role::Unpromoted)
            {
                continue;
            }
            visited.push(dep);
            let f = factor * (c.score.value() as f64 / tandem_cib::INFINITY as f64);
            let mut dep_table = self.w.rscs[dep].allowed.clone();
            self.add_dependents(dep, &mut dep_table, 1.0, visited, depth + 1);
            let mut candidate = table.clone();
            for n in 0..candidate.len() {
                let (Some(cur), Some(d)) = (candidate[n], dep_table[n]) else {
                    continue;
                };
                if let Some(add) = scaled(d, f) {
                    candidate[n] = Some(cur + add);
                }
            }
            if self.any_available(&candidate) || !self.any_available(table) {
                *table = candidate;
            }
        }
    }

    fn first_primitive(&self, r: RscIx) -> Option<RscIx> {
        let rsc = &self.w.rscs[r];
        match rsc.variant {
            Variant::Primitive => Some(r),
            Variant::Group => rsc.children.first().copied(),
            Variant::Clone => None,
        }
    }

    fn any_available(&self, table: &Table) -> bool {
        table
            .iter()
            .enumerate()
            .any(|(n, s)| s.is_some_and(|s| s >= Score::ZERO) && self.w.nodes[n].usable)
    }

    /// Assigns one primitive; returns its node.
    pub fn assign_primitive(&mut self, r: RscIx) -> Option<NodeIx> {
        if self.w.rscs[r].assigned_done {
            return self.w.rscs[r].assigned;
        }
        if self.w.rscs[r].assigning {
            return None;
        }
        self.w.rscs[r].assigning = true;
        self.apply_dependent_colocations(r);
        let mut table = self.merged_table(r);
        // What is printed is what the choice sees: a resource that must stop has no node,
        // and once colocations were merged, nodes that cannot run anything count as banned.
        if matches!(self.fixed_node(r), Some(None)) {
            for s in table.iter_mut().flatten() {
                *s = Score::MINUS_INFINITY;
            }
        } else if !self.dependents_of(r).is_empty() {
            for (n, s) in table.iter_mut().enumerate() {
                if let Some(s) = s
                    && !self.w.nodes[n].usable
                {
                    *s = Score::MINUS_INFINITY;
                }
            }
        }
        self.log_values("pcmk__primitive_assign", r, &table);
        let node = self.choose(r, &table);
        self.place(r, node);
        node
    }

    /// Records `r` on `node` (or stopped).
    pub fn place(&mut self, r: RscIx, node: Option<NodeIx>) {
        if let Some(n) = node {
            self.w.nodes[n].assigned_count += 1;
            let util = self.w.rscs[r].utilization.clone();
            self.capacity.consume(n, &util);
        }
        let rsc = &mut self.w.rscs[r];
        rsc.assigned = node;
        rsc.next_role = if node.is_some() {
            Role::Started
        } else {
            Role::Stopped
        };
        rsc.assigning = false;
        rsc.assigned_done = true;
    }

    /// Picks the node for `r` from `table`.
    pub fn choose(&self, r: RscIx, table: &Table) -> Option<NodeIx> {
        let rsc = &self.w.rscs[r];
        if let Some(fixed) = self.fixed_node(r) {
            return fixed;
        }
        let usable: Vec<(NodeIx, Score)> = table
            .iter()
            .enumerate()
            .filter_map(|(n, s)| s.map(|s| (n, s)))
            .filter(|&(n, s)| s >= Score::ZERO && self.w.nodes[n].usable)
            .collect();
        // Prefer nodes with room for everything that must follow this resource; if none has,
        // nodes with room for the resource itself.
        let own = self.group_utilization(r);
        let with_followers = self.colocated_utilization(r, own.clone());
        let mut candidates: Vec<(NodeIx, Score)> = usable
            .iter()
            .copied()
            .filter(|&(n, _)| self.capacity.fits(n, &with_followers))
            .collect();
        if candidates.is_empty() {
            candidates = usable
                .into_iter()
                .filter(|&(n, _)| self.capacity.fits(n, &own))
                .collect();
        }
        if candidates.is_empty() {
            return None;
        }
        let current = rsc.current().filter(|_| rsc.running_on.len() == 1);
        candidates.sort_by(|a, b| self.cmp_nodes(*a, *b, current));
        candidates.first().map(|&(n, _)| n)
    }

    /// Best first: higher score; then (balanced/utilization) more free capacity; then fewer
    /// resources assigned; then the node the resource is on; then by name.
    fn cmp_nodes(
        &self,
        a: (NodeIx, Score),
        b: (NodeIx, Score),
        current: Option<NodeIx>,
    ) -> std::cmp::Ordering {
        let na = &self.w.nodes[a.0];
        let nb = &self.w.nodes[b.0];
        b.1.cmp(&a.1)
            .then_with(|| match self.strategy {
                PlacementStrategy::Balanced | PlacementStrategy::Utilization => {
                    self.capacity.compare_free(b.0, a.0)
                }
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| match self.strategy {
                PlacementStrategy::Minimal => std::cmp::Ordering::Equal,
                _ => na.assigned_count.cmp(&nb.assigned_count),
            })
            .then_with(|| (Some(b.0) == current).cmp(&(Some(a.0) == current)))
            .then_with(|| na.uname.cmp(&nb.uname))
    }

    /// Resources that may not move: unmanaged, blocked, frozen.
    fn fixed_node(&self, r: RscIx) -> Option<Option<NodeIx>> {
        let rsc = &self.w.rscs[r];
        if !rsc.managed || rsc.blocked {
            return Some(rsc.current());
        }
        if rsc.orphan {
            return Some(None);
        }
        // Fencing devices keep running without quorum (fencing may still be needed).
        let needs_quorum =
            rsc.requires != crate::model::Requires::Nothing && !rsc.is_fencing_device;
        if self.stop_all
            || (self.quorum_stop && needs_quorum && rsc.is_active())
            || rsc.target_role == Role::Stopped
            || rsc.stop_on_fail
        {
            return Some(None);
        }
        if self.freeze && needs_quorum && rsc.is_active() {
            return Some(rsc.current());
        }
        None
    }

    /// The utilization a placement of `r` must fit: a group's first member carries the
    /// whole group's needs.
    fn group_utilization(&self, r: RscIx) -> std::collections::BTreeMap<String, i64> {
        let rsc = &self.w.rscs[r];
        if let Some(p) = rsc.parent
            && self.w.rscs[p].variant == Variant::Group
            && self.w.rscs[p].children.first() == Some(&r)
        {
            let mut total = std::collections::BTreeMap::new();
            for &m in &self.w.rscs[p].children {
                for (k, v) in &self.w.rscs[m].utilization {
                    *total.entry(k.clone()).or_insert(0) += v;
                }
            }
            return total;
        }
        rsc.utilization.clone()
    }

    /// `need` plus the utilization of unassigned resources mandatorily colocated with `r`.
    fn colocated_utilization(
        &self,
        r: RscIx,
        mut need: std::collections::BTreeMap<String, i64>,
    ) -> std::collections::BTreeMap<String, i64> {
        if !self.capacity.enabled() {
            return need;
        }
        let group = self.w.group_of(r);
        let mut seen: Vec<RscIx> = vec![r];
        seen.extend(group);
        let mut stack: Vec<usize> = self.dependents_of(r);
        while let Some(ci) = stack.pop() {
            let c = &self.cons.colocs[ci];
            let d = c.dependent;
            if !c.score.is_plus_infinity() || seen.contains(&d) || seen.len() > MAX_COLOC_DEPTH * 8
            {
                continue;
            }
            if group.is_some() && self.w.group_of(d) == group {
                continue;
            }
            seen.push(d);
            for p in self.w.primitives_of(d) {
                if self.w.rscs[p].assigned_done {
                    continue;
                }
                for (k, v) in &self.w.rscs[p].utilization {
                    *need.entry(k.clone()).or_insert(0) += v;
                }
            }
            stack.extend(self.cons.as_primary[d].iter().copied());
        }
        need
    }

    pub fn log_table(&mut self, stage: &'static str, r: RscIx) {
        let table = self.w.rscs[r].allowed.clone();
        self.log_values(stage, r, &table);
    }

    pub fn log_values(&mut self, stage: &'static str, r: RscIx, table: &Table) {
        for (n, s) in table.iter().enumerate() {
            let Some(score) = *s else { continue };
            self.lines.push(ScoreLine {
                stage,
                rsc: self.w.rscs[r].id.clone(),
                node: self.w.nodes[n].uname.clone(),
                score,
            });
        }
    }
}

/// Scales a dependent's score by a colocation factor (INFINITY counts as 1,000,000, so a
/// dependent's -INFINITY through an anti-colocation becomes a preference).
fn scaled(d: Score, f: f64) -> Option<Score> {
    Some(Score::new((d.value() as f64 * f) as i64))
}

/// Adds to a resource's table (and its descendants'); a mandatory contribution creates the
/// entry even for nodes the resource was not allowed on.
fn add_to(w: &mut World, r: RscIx, n: NodeIx, d: Score, create: bool) {
    let slot = &mut w.rscs[r].allowed[n];
    match slot {
        Some(s) => *s += d,
        None if create => *slot = Some(d),
        None => {}
    }
    for c in w.rscs[r].children.clone() {
        add_to(w, c, n, d, create);
    }
}
