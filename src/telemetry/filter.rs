//! The subscriber's one filter. `RUST_LOG` decides what is logged; while traces are exported,
//! runview's own spans are enabled down to DEBUG as well, whatever `RUST_LOG` says, because the
//! presenter phases and the SQL statements are DEBUG spans (so that a log at the default INFO
//! leaves them out of every line's context). Events stay `RUST_LOG`'s: those inside a traced span
//! become its span events.
//!
//! tracing-subscriber's per-layer filters would say this more directly, but they drop the next
//! event after a `log_enabled!` query that no event follows, which sqlx makes for every statement
//! (tokio-rs/tracing#2519): the line announcing the listening server went missing.

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber, span};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer};

pub(super) struct Filter {
    logs: EnvFilter,
    /// Traces are exported.
    traced: bool,
}

impl Filter {
    pub(super) fn new(logs: EnvFilter, traced: bool) -> Self {
        Self { logs, traced }
    }

    fn traced_span(&self, metadata: &Metadata<'_>) -> bool {
        self.traced
            && metadata.is_span()
            && metadata.target().starts_with("runview")
            && *metadata.level() <= Level::DEBUG
    }
}

impl<S: Subscriber> Layer<S> for Filter {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.traced_span(metadata) {
            Interest::always()
        } else {
            Layer::<S>::register_callsite(&self.logs, metadata)
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.traced_span(metadata) || self.logs.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let logs = self.logs.max_level_hint();
        if self.traced {
            logs.map(|hint| hint.max(LevelFilter::DEBUG))
        } else {
            logs
        }
    }

    // The log filter follows spans for directives that name one (`[GetRun]=debug`).
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.logs.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.logs.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.logs.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.logs.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.logs.on_close(id, ctx);
    }
}
