//! Skewed picks from the value pools. Production data is far from uniform: a few tasks, queues
//! and tags account for most runs and a long tail for the rest (Zipf's law). Which filters are
//! cheap and which are expensive depends on that, so the seeded dataset follows it too.

use std::borrow::Cow;

use rand::{Rng, rngs::StdRng};
use rand_distr::{Distribution, Zipf};

use crate::values::{MACHINES, SHARED_QUEUES, TAGS, TASKS, TOKEN_TAGS, WORKER_QUEUES};

/// Share of runs and tokens that have tags: most are created without any.
pub(crate) const TAGGED_SHARE: f64 = 0.35;

/// Users that `user:<id>` tags name: a few very active ones, most seen a handful of times.
pub(crate) const USERS: usize = 20_000;

/// Items of a pool, most popular first: the k-th is picked about 1/k^s as often as the first.
pub(crate) struct Ranked<T: 'static> {
    items: &'static [T],
    ranks: Zipf<f64>,
}

impl<T: Copy> Ranked<T> {
    pub fn new(items: &'static [T], exponent: f64) -> Self {
        Self {
            items,
            ranks: zipf(items.len(), exponent),
        }
    }

    pub fn pick(&self, rng: &mut StdRng) -> T {
        self.items[self.rank(rng)]
    }

    /// The index of a picked item.
    pub fn rank(&self, rng: &mut StdRng) -> usize {
        rank(&self.ranks, rng, self.items.len())
    }
}

fn zipf(n: usize, exponent: f64) -> Zipf<f64> {
    Zipf::new(n as f64, exponent).expect("pools are not empty and exponents are positive")
}

/// A 0-based rank below `n`.
fn rank(zipf: &Zipf<f64>, rng: &mut StdRng, n: usize) -> usize {
    // Zipf yields 1 to n as a float; rounding at the very top of its range may step past n.
    (zipf.sample(rng) as usize).min(n) - 1
}

/// The skewed columns of a run.
pub(crate) struct RunPicks {
    pub tasks: Ranked<&'static str>,
    shared_queues: Ranked<&'static str>,
    /// The worker queue, whose name is also the region a run without its own displays.
    pub regions: Ranked<&'static str>,
    /// Machine presets; the rank is the index into [`MACHINES`].
    pub machines: Ranked<&'static str>,
    pub tags: TagPicker,
}

/// Share of runs on their task's own `task/<slug>` queue rather than a shared one.
const OWN_QUEUE_SHARE: f64 = 0.85;

impl RunPicks {
    pub fn new() -> Self {
        Self {
            tasks: Ranked::new(&TASKS, 1.1),
            shared_queues: Ranked::new(&SHARED_QUEUES, 1.2),
            regions: Ranked::new(&WORKER_QUEUES, 1.5),
            machines: Ranked::new(&MACHINES, 1.3),
            tags: TagPicker {
                pool: Ranked::new(&TAGS, 1.2),
                users: zipf(USERS, 1.05),
                user_share: 0.5,
                max: 3,
            },
        }
    }

    /// Most runs are on their task's own queue, so queues are as skewed as tasks (the top few
    /// hold most runs, then a long tail); the rest go to a few shared queues, also skewed.
    pub fn queue(&self, rng: &mut StdRng, task: &str) -> String {
        if rng.random_bool(OWN_QUEUE_SHARE) {
            format!("task/{task}")
        } else {
            self.shared_queues.pick(rng).to_owned()
        }
    }
}

/// The tags of runs or tokens: none for most (stored as NULL, as the upstream does); else the
/// `user:<id>` of the user it was for (sometimes) and tags of a pool, one to `max` distinct tags
/// in the order they were given (readers sort them for display).
pub(crate) struct TagPicker {
    pool: Ranked<&'static str>,
    users: Zipf<f64>,
    /// Share of tagged runs or tokens that name a user.
    user_share: f64,
    max: usize,
}

impl TagPicker {
    pub fn tokens() -> Self {
        Self {
            pool: Ranked::new(&TOKEN_TAGS, 1.2),
            users: zipf(USERS, 1.05),
            user_share: 0.3,
            max: 2,
        }
    }

    pub fn pick(&self, rng: &mut StdRng) -> Vec<Cow<'static, str>> {
        if !rng.random_bool(TAGGED_SHARE) {
            return Vec::new();
        }
        let count = rng.random_range(1..=self.max);
        let mut tags = Vec::with_capacity(count);
        if rng.random_bool(self.user_share) {
            let user = rank(&self.users, rng, USERS);
            tags.push(Cow::Owned(format!("user:{}", user_id(user))));
        }
        while tags.len() < count {
            let tag = Cow::Borrowed(self.pool.pick(rng));
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }
}

/// The id of the user of a rank: scattered over five digits, so that the most active users are
/// not simply the lowest ids. 7,919 is prime and shares no factor with [`USERS`], so no two ranks
/// share an id.
fn user_id(rank: usize) -> usize {
    10_000 + rank * 7_919 % USERS
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::{BTreeMap, HashSet};

    use rand::SeedableRng;

    use super::*;

    const DRAWS: usize = 100_000;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    /// How often each value was drawn, most frequent first (ties in value order).
    fn frequencies<T: Ord>(draws: impl Iterator<Item = T>) -> Vec<(T, usize)> {
        let mut counts: BTreeMap<T, usize> = BTreeMap::new();
        for value in draws {
            *counts.entry(value).or_default() += 1;
        }
        let mut counts: Vec<(T, usize)> = counts.into_iter().collect();
        counts.sort_by_key(|(_, n)| Reverse(*n));
        counts
    }

    #[test]
    fn the_first_task_is_far_more_common_than_the_median_one_and_every_task_runs() {
        let (picks, mut rng) = (RunPicks::new(), rng());
        let tasks = frequencies((0..DRAWS).map(|_| picks.tasks.pick(&mut rng)));
        assert_eq!(tasks.len(), TASKS.len(), "the long tail is drawn too");
        assert_eq!(tasks[0].0, TASKS[0], "the showcase task is the most common");
        let median = tasks[tasks.len() / 2].1;
        assert!(tasks[0].1 > 10 * median, "{} vs {median}", tasks[0].1);
    }

    #[test]
    fn a_few_queues_hold_most_runs_and_a_long_tail_the_rest() {
        let (picks, mut rng) = (RunPicks::new(), rng());
        let queues = frequencies((0..DRAWS).map(|_| {
            let task = picks.tasks.pick(&mut rng);
            picks.queue(&mut rng, task)
        }));
        let top_five: usize = queues[..5].iter().map(|(_, n)| n).sum();
        assert!(
            top_five > DRAWS / 2,
            "{top_five} runs on the top five queues"
        );
        assert_eq!(queues.len(), TASKS.len() + SHARED_QUEUES.len());
        assert!(queues.iter().any(|(queue, _)| queue == SHARED_QUEUES[0]));
    }

    #[test]
    fn most_runs_are_untagged_and_user_tags_have_a_high_skewed_cardinality() {
        let (picks, mut rng) = (RunPicks::new(), rng());
        let tagged: Vec<Vec<Cow<'static, str>>> = (0..DRAWS)
            .map(|_| picks.tags.pick(&mut rng))
            .filter(|tags| !tags.is_empty())
            .collect();
        let untagged = 1.0 - tagged.len() as f64 / DRAWS as f64;
        assert!((0.62..0.68).contains(&untagged), "{untagged} untagged");
        for tags in &tagged {
            assert!(tags.len() <= 3, "{tags:?}");
            assert!(
                tags.iter().enumerate().all(|(i, t)| !tags[..i].contains(t)),
                "distinct tags: {tags:?}"
            );
        }
        let all = tagged.iter().flatten();
        let users = frequencies(all.clone().filter(|tag| tag.starts_with("user:")));
        assert!(users.len() > 3_000, "{} distinct users", users.len());
        let median = users[users.len() / 2].1;
        assert!(users[0].1 > 100 * median, "{} vs {median}", users[0].1);
        let pooled = frequencies(all.filter(|tag| !tag.starts_with("user:")));
        assert_eq!(pooled[0].0, TAGS[0]);
        assert!(pooled[0].1 > 10 * pooled[pooled.len() / 2].1);
    }

    #[test]
    fn token_tags_lead_with_approval_and_name_users_too() {
        let (picker, mut rng) = (TagPicker::tokens(), rng());
        let tags = frequencies((0..DRAWS).flat_map(|_| picker.pick(&mut rng)));
        assert_eq!(tags[0].0, "approval");
        assert!(tags.iter().any(|(tag, _)| tag.starts_with("user:")));
        assert!(tags.len() > 1_000, "{} distinct token tags", tags.len());
    }

    #[test]
    fn regions_and_machines_are_skewed_towards_the_first() {
        let (picks, mut rng) = (RunPicks::new(), rng());
        let regions = frequencies((0..DRAWS).map(|_| picks.regions.pick(&mut rng)));
        assert_eq!(regions[0].0, WORKER_QUEUES[0]);
        assert!(regions[0].1 > DRAWS / 2);
        let machines = frequencies((0..DRAWS).map(|_| picks.machines.rank(&mut rng)));
        assert_eq!(machines.len(), MACHINES.len());
        assert_eq!(machines[0].0, 0);
        assert!(machines[0].1 > 5 * machines[machines.len() - 1].1);
    }

    #[test]
    fn user_ids_are_distinct_five_digit_numbers() {
        let ids: HashSet<usize> = (0..USERS).map(user_id).collect();
        assert_eq!(ids.len(), USERS);
        assert!(ids.iter().all(|id| (10_000..100_000).contains(id)));
    }
}
