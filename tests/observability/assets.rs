//! The PromQL of deploy/observability, for the tests that check it: every query of the dashboard
//! and of the alert rules, and the metric selectors and grouping labels in each. A small scanner,
//! not a PromQL parser: `./check` has promtool parse the queries; this finds the names in them.

use std::path::{Path, PathBuf};

pub fn path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/observability")
        .join(file)
}

pub fn read(file: &str) -> String {
    let path = path(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

pub fn yaml(file: &str) -> yaml_serde::Value {
    yaml_serde::from_str(&read(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

pub fn dashboard() -> serde_json::Value {
    serde_json::from_str(&read("runview-dashboard.json"))
        .unwrap_or_else(|error| panic!("runview-dashboard.json: {error}"))
}

/// Every query: the dashboard's, then the rules'.
pub fn queries() -> Vec<String> {
    let mut found = dashboard_queries();
    let rules = yaml("runview-rules.yaml");
    for group in rules["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            found.push(
                rule["expr"]
                    .as_str()
                    .expect("every rule has an expr")
                    .to_owned(),
            );
        }
    }
    found
}

/// The expressions of the dashboard's panels, wherever they are nested.
pub fn dashboard_queries() -> Vec<String> {
    fn walk(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(fields) => {
                if let Some(expr) = fields.get("expr").and_then(|expr| expr.as_str()) {
                    found.push(expr.to_owned());
                }
                fields.values().for_each(|value| walk(value, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&dashboard(), &mut found);
    found
}

/// `metric{label op "value", ...}`; no matchers for a bare name.
#[derive(Debug, PartialEq, Eq)]
pub struct Selector {
    pub metric: String,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: String,
    pub value: String,
}

/// The selectors of runview's metrics in `query`.
pub fn selectors(query: &str) -> Vec<Selector> {
    let tokens = tokens(query);
    let mut found = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        let Token::Word(metric) = token else { continue };
        if !metric.starts_with("runview_") {
            continue;
        }
        let mut matchers = Vec::new();
        if tokens.get(at + 1) == Some(&Token::Symbol("{".to_owned())) {
            for matcher in tokens[at + 2..].split(|token| *token == Token::Symbol(",".to_owned())) {
                match matcher {
                    [
                        Token::Word(label),
                        Token::Symbol(op),
                        Token::Text(value),
                        ..,
                    ] => {
                        matchers.push(Matcher {
                            label: label.clone(),
                            op: op.clone(),
                            value: value.clone(),
                        });
                    }
                    _ => panic!("a matcher of {metric} that is not `label op \"value\"`: {query}"),
                }
                if matcher.contains(&Token::Symbol("}".to_owned())) {
                    break;
                }
            }
        }
        found.push(Selector {
            metric: metric.clone(),
            matchers,
        });
    }
    found
}

/// The labels of `by (...)`, `without (...)`, `on (...)` and the like in `query`.
pub fn grouping_labels(query: &str) -> Vec<String> {
    const GROUPING: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let tokens = tokens(query);
    let mut found = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        let is_grouping = matches!(token, Token::Word(word) if GROUPING.contains(&word.as_str()));
        if !is_grouping || tokens.get(at + 1) != Some(&Token::Symbol("(".to_owned())) {
            continue;
        }
        found.extend(
            tokens[at + 2..]
                .iter()
                .take_while(|token| **token != Token::Symbol(")".to_owned()))
                .filter_map(|token| match token {
                    Token::Word(label) => Some(label.clone()),
                    _ => None,
                }),
        );
    }
    found
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    /// A name, a number or a duration.
    Word(String),
    /// A string literal, unquoted.
    Text(String),
    /// Punctuation or an operator (`{`, `,`, `=~`, `!=`, ...).
    Symbol(String),
}

fn tokens(query: &str) -> Vec<Token> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.');
    let mut tokens = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if matches!(c, '"' | '\'' | '`') {
            let mut text = String::new();
            while let Some(next) = chars.next() {
                match next {
                    _ if next == c => break,
                    '\\' => text.extend(chars.next()),
                    _ => text.push(next),
                }
            }
            tokens.push(Token::Text(text));
        } else if is_word(c) {
            let mut word = String::from(c);
            while let Some(next) = chars.next_if(|next| is_word(*next)) {
                word.push(next);
            }
            tokens.push(Token::Word(word));
        } else {
            let mut symbol = String::from(c);
            if matches!(c, '=' | '!' | '<' | '>')
                && let Some(next) = chars.next_if(|next| matches!(next, '=' | '~'))
            {
                symbol.push(next);
            }
            tokens.push(Token::Symbol(symbol));
        }
    }
    tokens
}
