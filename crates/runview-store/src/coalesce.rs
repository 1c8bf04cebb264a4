//! Coalesced lookups: lookups of one kind that reach a store while a statement of that kind is in
//! flight there wait for it, then go out together as one statement.
//!
//! Under load, most of what PostgreSQL spends on a lookup by primary key is per statement (parse
//! of the message, executor start-up, a round trip), and most of what runview spends is per round
//! trip (system calls, wake-ups): one statement for many lookups pays both once. At low load
//! nothing waits: a lookup that finds no statement in flight is sent at once, on the caller's own
//! task, with the single-lookup statement, so there is no timer and no added latency at c=1.
//!
//! At most one statement of a kind is in flight per store: while it runs, lookups queue; when it
//! ends, everything queued (up to the configured cap) goes out as the next statement, from a task
//! of its own so that no caller waits for others' answers after its own. Each lookup keeps its
//! own scope (environment, children cap, bodies): batching changes how many statements run, never
//! what one caller sees. A batch statement that fails fails every lookup in it with its error.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use runview_core::{Error, Result};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::store::PgRunStore;
use crate::telemetry::record_statement_lookups;

/// Whether a store answers concurrent lookups of a kind with one statement, and with how many at
/// most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coalescing {
    /// Every lookup is a statement of its own.
    Off,
    /// Lookups that arrive while a statement of their kind is in flight share the next one, this
    /// many at most.
    UpTo(usize),
}

/// At c=32 on two cores a statement answered about four lookups; the cap only bounds a burst.
pub const DEFAULT_MAX_COALESCED_LOOKUPS: usize = 64;

impl Default for Coalescing {
    fn default() -> Self {
        Self::UpTo(DEFAULT_MAX_COALESCED_LOOKUPS)
    }
}

/// A kind of lookup a store can answer one at a time or many in one statement.
pub(crate) trait Lookup: Send + Sync + 'static {
    /// What one caller asks.
    type Key: Clone + Send + Sync + 'static;
    type Answer: Send + 'static;
    /// The record looked up, in metrics.
    const RECORD: &'static str;

    /// One lookup, in the statement of a lone lookup.
    fn one(
        store: &PgRunStore,
        key: &Self::Key,
    ) -> impl Future<Output = Result<Self::Answer>> + Send;

    /// Many lookups in one statement: the statement's failure, or each key's answer in order.
    fn many(
        store: &PgRunStore,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<Vec<Result<Self::Answer>>>> + Send;
}

/// The lookups of one kind of one store.
pub(crate) struct Coalescer<L: Lookup> {
    /// None: coalescing is off.
    shared: Option<Arc<Shared<L>>>,
}

impl<L: Lookup> Clone for Coalescer<L> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<L: Lookup> std::fmt::Debug for Coalescer<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max_lookups = self.shared.as_ref().map(|shared| shared.max_lookups);
        f.debug_struct("Coalescer")
            .field("record", &L::RECORD)
            .field("max_lookups", &max_lookups)
            .finish()
    }
}

struct Shared<L: Lookup> {
    queue: Mutex<Queue<L>>,
    max_lookups: usize,
    /// Where batch statements run: the runtime the store was made in.
    runtime: Handle,
}

struct Queue<L: Lookup> {
    /// A statement of this kind is in flight.
    in_flight: bool,
    waiting: Vec<Waiting<L>>,
}

/// A lookup queued behind the statement in flight, and where its answer goes.
struct Waiting<L: Lookup> {
    key: L::Key,
    answer: oneshot::Sender<Result<L::Answer>>,
    /// The caller's span when it queued.
    span: tracing::Span,
}

impl<L: Lookup> Coalescer<L> {
    /// Call inside a tokio runtime: batch statements run there.
    pub(crate) fn new(coalescing: Coalescing) -> Self {
        let shared = match coalescing {
            Coalescing::Off => None,
            Coalescing::UpTo(max_lookups) => Some(Arc::new(Shared {
                queue: Mutex::new(Queue {
                    in_flight: false,
                    waiting: Vec::new(),
                }),
                // A batch of none would hand the turn on forever.
                max_lookups: max_lookups.max(1),
                runtime: Handle::current(),
            })),
        };
        Self { shared }
    }

    /// `key` looked up in `store`: at once when no statement of this kind is in flight there,
    /// else with the lookups queued behind it. A caller that goes away while queued is left out
    /// of the next statement.
    pub(crate) async fn look_up(&self, store: &PgRunStore, key: &L::Key) -> Result<L::Answer> {
        let Some(shared) = &self.shared else {
            return L::one(store, key).await;
        };
        let queued = {
            let mut queue = shared.queue();
            if queue.in_flight {
                let (answer, receiver) = oneshot::channel();
                queue.waiting.push(Waiting {
                    key: key.clone(),
                    answer,
                    span: tracing::Span::current(),
                });
                Some(receiver)
            } else {
                queue.in_flight = true;
                None
            }
        };
        match queued {
            Some(receiver) => receiver.await.unwrap_or_else(|_| {
                Err(Error::Internal(
                    "a coalesced lookup was dropped unanswered".to_owned(),
                ))
            }),
            None => {
                // Handed on when dropped, even if this caller goes away mid-statement.
                let _turn = Turn { shared, store };
                record_statement_lookups(store.label(), L::RECORD, 1);
                L::one(store, key).await
            }
        }
    }
}

impl<L: Lookup> Shared<L> {
    /// A panic while holding the lock leaves the queue whole, so poisoning is ignored.
    fn queue(&self) -> MutexGuard<'_, Queue<L>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The lookups for the next statement, or none, and then no statement is in flight.
    fn next_batch(&self) -> Option<Vec<Waiting<L>>> {
        let mut queue = self.queue();
        // Callers that went away (cancelled, past their deadline) are not looked up for.
        queue.waiting.retain(|waiting| !waiting.answer.is_closed());
        if queue.waiting.is_empty() {
            queue.in_flight = false;
            return None;
        }
        let size = queue.waiting.len().min(self.max_lookups);
        Some(queue.waiting.drain(..size).collect())
    }
}

/// The right to the one statement of its kind in flight; dropping it hands the right to the
/// lookups queued meanwhile.
struct Turn<'a, L: Lookup> {
    shared: &'a Arc<Shared<L>>,
    store: &'a PgRunStore,
}

impl<L: Lookup> Drop for Turn<'_, L> {
    fn drop(&mut self) {
        let Some(batch) = self.shared.next_batch() else {
            return;
        };
        let (shared, store) = (Arc::clone(self.shared), self.store.clone());
        // The statement's span goes in the trace of the batch's first caller: one statement
        // cannot be the child of every call it answers.
        let span = batch
            .first()
            .map_or_else(tracing::Span::none, |first| first.span.clone());
        self.shared.runtime.spawn(
            async move {
                let _turn = Turn {
                    shared: &shared,
                    store: &store,
                };
                answer(&store, batch).await;
            }
            .instrument(span),
        );
    }
}

/// Runs one statement for `batch` and sends each waiting caller its answer.
async fn answer<L: Lookup>(store: &PgRunStore, batch: Vec<Waiting<L>>) {
    record_statement_lookups(store.label(), L::RECORD, batch.len());
    let (keys, senders): (Vec<L::Key>, Vec<_>) = batch
        .into_iter()
        .map(|waiting| (waiting.key, waiting.answer))
        .unzip();
    let answers = match keys.as_slice() {
        // The others went away: the lone statement serves one as well, with its own plan.
        [key] => L::one(store, key).await.map(|answer| vec![Ok(answer)]),
        keys => L::many(store, keys).await,
    };
    match answers {
        Ok(answers) => {
            for (sender, answer) in senders.into_iter().zip(answers) {
                // A caller gone since is no one to tell.
                let _ = sender.send(answer);
            }
        }
        Err(error) => {
            for sender in senders {
                let _ = sender.send(Err(error.clone()));
            }
        }
    }
}

/// The rows of a statement for `lookups` lookups, each row numbered by the lookup it answers
/// (its place in the statement's arrays, from 1), grouped by lookup in the order they came.
pub(crate) fn rows_by_lookup<T>(
    lookups: usize,
    rows: impl IntoIterator<Item = (i64, T)>,
) -> Result<Vec<Vec<T>>> {
    let mut grouped: Vec<Vec<T>> = (0..lookups).map(|_| Vec::new()).collect();
    for (asked, row) in rows {
        let group = usize::try_from(asked - 1)
            .ok()
            .and_then(|index| grouped.get_mut(index))
            .ok_or_else(|| Error::Internal(format!("a row for lookup {asked} of {lookups}")))?;
        group.push(row);
    }
    Ok(grouped)
}
