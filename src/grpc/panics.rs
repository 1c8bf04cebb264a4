//! A panic in a handler is a bug: the caller gets INTERNAL (masked, with ErrorInfo, counted like
//! any answer) instead of a torn-down stream, and the panic is logged once, as one line of the
//! service's log, by the edge's error mapping. Panics elsewhere go to the hook that was there.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::pin::Pin;
use std::task::{Context, Poll};

use runview_core::Error;

thread_local! {
    /// Set while a handler's future is polled on this thread.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
    /// What the hook saw of the last panic in a handler on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps a handler's panic from the hook that was there (multi-line text on stderr, a backtrace
/// when enabled): the handler's answer reports it. Other panics still go to that hook. Installed
/// once, however often it is called.
pub fn install_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_HANDLER.get() {
                LAST_PANIC.set(Some(describe(info)));
            } else {
                previous(info);
            }
        }));
    });
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    match info.location() {
        Some(location) => format!("{message} at {location}"),
        None => message.to_owned(),
    }
}

/// `work`, with a panic while it is polled turned into [`Error::Internal`].
pub fn contain<F, V>(work: F) -> impl Future<Output = Result<V, Error>>
where
    F: Future<Output = Result<V, Error>>,
{
    Contained(Box::pin(work))
}

/// Boxed so that it can be polled through a plain `&mut`, keeping the crate free of `unsafe`.
struct Contained<F>(Pin<Box<F>>);

impl<F, V> Future for Contained<F>
where
    F: Future<Output = Result<V, Error>>,
{
    type Output = Result<V, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let work = self.0.as_mut();
        IN_HANDLER.set(true);
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| work.poll(cx)));
        IN_HANDLER.set(false);
        polled.unwrap_or_else(|_| {
            let description = LAST_PANIC
                .take()
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Poll::Ready(Err(Error::Internal(format!(
                "a handler panicked: {description}"
            ))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_with_where_it_panicked() {
        install_hook();
        let answer: Result<(), Error> = contain(async {
            let filters: Vec<u8> = Vec::new();
            // An out-of-bounds index: the kind of bug this is for.
            let _ = filters[usize::from(filters.is_empty())];
            Ok(())
        })
        .await;
        let Err(Error::Internal(cause)) = answer else {
            panic!("expected INTERNAL, got {answer:?}");
        };
        assert!(
            cause.starts_with("a handler panicked: index out of bounds"),
            "{cause}"
        );
        assert!(cause.contains("src/grpc/panics.rs"), "{cause}");
        assert!(!IN_HANDLER.get(), "the flag is cleared after the poll");
    }

    #[tokio::test]
    async fn a_handler_that_does_not_panic_answers_as_it_would() {
        let answer = contain(async { Ok::<_, Error>(7) }).await;
        assert_eq!(answer, Ok(7));
    }
}
