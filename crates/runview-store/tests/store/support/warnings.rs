//! The warnings a piece of code logs, recorded on the test's own thread.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Every WARN event logged while the guard of [`record_warnings`] lives, each as its fields
/// (`name=value`, the message as `message=...`) in the order logged.
#[derive(Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<Vec<String>>>>);

impl Warnings {
    pub fn take(&self) -> Vec<Vec<String>> {
        std::mem::take(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Records the warnings of this thread until the guard drops: a `#[tokio::test]` runs its
/// futures on the thread that awaits them.
pub fn record_warnings() -> (Warnings, tracing::subscriber::DefaultGuard) {
    let warnings = Warnings::default();
    let guard = tracing::subscriber::set_default(Recorder(warnings.clone()));
    (warnings, guard)
}

struct Recorder(Warnings);

struct Fields(Vec<String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() == Level::WARN
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        let mut warnings = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        warnings.push(fields.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
