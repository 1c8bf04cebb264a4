//! Tag order. The upstream sorts tags with JavaScript's `localeCompare`, which is the Unicode
//! collation of the root locale (ICU), not byte order: `alpha` before `Alpha` before `beta`.
//! Callers compare pages of both services, so the order must be the same.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};

/// The root collation at its default (tertiary) strength, as `localeCompare` uses it. Built once:
/// the data is compiled in, so building cannot fail in practice; byte order stands in if it does.
static ROOT_COLLATION: LazyLock<Option<CollatorBorrowed<'static>>> =
    LazyLock::new(|| Collator::try_new(Default::default(), CollatorOptions::default()).ok());

/// Sorts tags as the upstream shows them. Tags that collate alike keep their stored order.
pub fn sort_tags(tags: &mut [String]) {
    tags.sort_by(|a, b| compare(a, b));
}

fn compare(a: &str, b: &str) -> Ordering {
    match ROOT_COLLATION.as_ref() {
        Some(collator) => collator.compare(a, b),
        None => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(tags: &[&str]) -> Vec<String> {
        let mut tags: Vec<String> = tags.iter().map(|tag| (*tag).to_owned()).collect();
        sort_tags(&mut tags);
        tags
    }

    #[test]
    fn case_is_a_tie_breaker_with_lower_case_first() {
        assert_eq!(
            sorted(&["beta", "Alpha", "alpha"]),
            ["alpha", "Alpha", "beta"]
        );
    }

    #[test]
    fn letters_sort_by_their_base_letter_not_their_code_point() {
        // Byte order would put every upper-case letter and every accent elsewhere.
        assert_eq!(
            sorted(&["zebra", "Émile", "eagle", "Zoo", "user:42", "user:7"]),
            ["eagle", "Émile", "user:42", "user:7", "zebra", "Zoo"]
        );
    }

    #[test]
    fn punctuation_and_digits_come_before_letters() {
        assert_eq!(
            sorted(&["b", "_internal", "9lives", "a-b", "ab"]),
            ["_internal", "9lives", "a-b", "ab", "b"]
        );
    }
}
