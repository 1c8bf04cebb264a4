//! The boot-time check that a database has every table and column runview reads, with a type
//! runview can decode. runview reads databases it does not own: a schema that drifted (a column
//! dropped, retyped or made nullable by an upstream migration) must stop the process at boot with
//! one message that says what to fix, not fail every request later.

use std::collections::HashMap;
use std::fmt;

use sqlx::PgPool;

/// A column type as runview decodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    Boolean,
    DoublePrecision,
    /// `timestamp without time zone`, of any precision.
    Timestamp,
    Jsonb,
    TextArray,
    /// A PostgreSQL enum type, by name ("TaskRunStatus").
    Enum(&'static str),
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text => f.write_str("text"),
            Self::Integer => f.write_str("integer"),
            Self::Boolean => f.write_str("boolean"),
            Self::DoublePrecision => f.write_str("double precision"),
            Self::Timestamp => f.write_str("timestamp without time zone"),
            Self::Jsonb => f.write_str("jsonb"),
            Self::TextArray => f.write_str("text[]"),
            Self::Enum(name) => write!(f, "enum \"{name}\""),
        }
    }
}

/// Whether runview can decode a NULL in the column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nulls {
    /// Decoded as optional: NULL or not, either is fine.
    Allowed,
    /// Decoded as a plain value: the column must be NOT NULL.
    Refused,
}

/// One column runview reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnNeed {
    pub table: &'static str,
    pub column: &'static str,
    pub column_type: ColumnType,
    pub nulls: Nulls,
}

/// A column read as optional.
pub const fn nullable(
    table: &'static str,
    column: &'static str,
    column_type: ColumnType,
) -> ColumnNeed {
    ColumnNeed {
        table,
        column,
        column_type,
        nulls: Nulls::Allowed,
    }
}

/// A column read as a plain value: NOT NULL is part of what runview needs.
pub const fn required(
    table: &'static str,
    column: &'static str,
    column_type: ColumnType,
) -> ColumnNeed {
    ColumnNeed {
        nulls: Nulls::Refused,
        ..nullable(table, column, column_type)
    }
}

/// An index runview recommends but does not need: without it reads are slower, not wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecommendedIndex {
    pub table: &'static str,
    /// The key as `pg_get_indexdef` prints it between the parentheses, e.g.
    /// `"runtimeEnvironmentId", "createdAt" DESC, id COLLATE "C" DESC`.
    pub key: &'static str,
    /// What it is for, for the warning.
    pub serves: &'static str,
}

/// How a database differs from what runview reads. Messages name tables and columns, never how
/// the database is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    MissingTable { table: &'static str },
    MissingColumn { need: ColumnNeed },
    WrongType { need: ColumnNeed, found: String },
    Nullable { need: ColumnNeed },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTable { table } => {
                write!(
                    f,
                    "table \"{table}\": expected it to exist, found no such table"
                )
            }
            Self::MissingColumn { need } => write!(
                f,
                "column \"{}\".\"{}\": expected {}, found no such column",
                need.table,
                need.column,
                expectation(need)
            ),
            Self::WrongType { need, found } => write!(
                f,
                "column \"{}\".\"{}\": expected {}, found {found}",
                need.table,
                need.column,
                expectation(need)
            ),
            Self::Nullable { need } => write!(
                f,
                "column \"{}\".\"{}\": expected {}, found a nullable column",
                need.table,
                need.column,
                expectation(need)
            ),
        }
    }
}

fn expectation(need: &ColumnNeed) -> String {
    match need.nulls {
        Nulls::Allowed => need.column_type.to_string(),
        Nulls::Refused => format!("{} NOT NULL", need.column_type),
    }
}

/// Why a database cannot be served. Messages name the database's role, never its URL.
#[derive(Debug, thiserror::Error)]
pub enum SchemaCheckError {
    /// Fail closed: a schema that could not be read cannot be vouched for.
    #[error("could not read the schema of the {role} database: {error}")]
    Probe {
        role: &'static str,
        error: runview_core::Error,
    },
    #[error(
        "the {role} database does not have what runview reads: {}",
        mismatches.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Mismatch {
        role: &'static str,
        mismatches: Vec<Mismatch>,
    },
}

/// Checks the database behind `pool`, known to operators as the `role` database ("LEGACY
/// run-ops", "control-plane"), for every column runview reads, and warns about each recommended
/// index it lacks.
pub async fn check_schema(
    pool: &PgPool,
    role: &'static str,
    needs: &[ColumnNeed],
    recommended: &[RecommendedIndex],
) -> Result<(), SchemaCheckError> {
    let probe = |error| SchemaCheckError::Probe {
        role,
        error: crate::map_error(role, error),
    };
    let mismatches = schema_mismatches(pool, needs).await.map_err(probe)?;
    if !mismatches.is_empty() {
        return Err(SchemaCheckError::Mismatch { role, mismatches });
    }
    for index in missing_indexes(pool, recommended).await.map_err(probe)? {
        tracing::warn!(
            database = role,
            table = index.table,
            key = index.key,
            serves = index.serves,
            "a recommended index is missing: reads stay correct but may be slower"
        );
    }
    Ok(())
}

/// One column as the catalog describes it.
#[derive(Debug, sqlx::FromRow)]
struct FoundColumn {
    table_name: String,
    column_name: String,
    data_type: String,
    udt_name: String,
    is_nullable: String,
}

impl FoundColumn {
    fn type_matches(&self, expected: ColumnType) -> bool {
        let (data_type, udt) = (self.data_type.as_str(), self.udt_name.as_str());
        match expected {
            ColumnType::Text => data_type == "text",
            ColumnType::Integer => data_type == "integer",
            ColumnType::Boolean => data_type == "boolean",
            ColumnType::DoublePrecision => data_type == "double precision",
            ColumnType::Timestamp => data_type == "timestamp without time zone",
            ColumnType::Jsonb => data_type == "jsonb",
            ColumnType::TextArray => data_type == "ARRAY" && udt == "_text",
            ColumnType::Enum(name) => data_type == "USER-DEFINED" && udt == name,
        }
    }

    fn describe(&self) -> String {
        match self.data_type.as_str() {
            "ARRAY" => format!("{}[]", self.udt_name.trim_start_matches('_')),
            "USER-DEFINED" => format!("enum \"{}\"", self.udt_name),
            other => other.to_owned(),
        }
    }
}

/// Every way the database behind `pool` differs from `needs`, in the order of `needs`; empty when
/// it has all of them. Tables are looked up in the connection's search path, as runview's
/// statements find them.
pub async fn schema_mismatches(
    pool: &PgPool,
    needs: &[ColumnNeed],
) -> Result<Vec<Mismatch>, sqlx::Error> {
    let mut tables: Vec<&str> = needs.iter().map(|need| need.table).collect();
    tables.sort_unstable();
    tables.dedup();
    let found: Vec<FoundColumn> = sqlx::query_as(
        r#"
        SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.udt_name::text,
               c.is_nullable::text
        FROM information_schema.columns c
        WHERE c.table_schema = current_schema() AND c.table_name = ANY($1)
        "#,
    )
    .bind(&tables)
    .fetch_all(pool)
    .await?;
    Ok(compare(needs, &found))
}

fn compare(needs: &[ColumnNeed], found: &[FoundColumn]) -> Vec<Mismatch> {
    let columns: HashMap<(&str, &str), &FoundColumn> = found
        .iter()
        .map(|column| {
            (
                (column.table_name.as_str(), column.column_name.as_str()),
                column,
            )
        })
        .collect();
    let mut mismatches = Vec::new();
    for need in needs {
        let table_exists = found.iter().any(|column| column.table_name == need.table);
        if !table_exists {
            let table = need.table;
            if !mismatches.contains(&Mismatch::MissingTable { table }) {
                mismatches.push(Mismatch::MissingTable { table });
            }
            continue;
        }
        let need = *need;
        match columns.get(&(need.table, need.column)) {
            None => mismatches.push(Mismatch::MissingColumn { need }),
            Some(column) if !column.type_matches(need.column_type) => {
                mismatches.push(Mismatch::WrongType {
                    need,
                    found: column.describe(),
                });
            }
            Some(column) if need.nulls == Nulls::Refused && column.is_nullable == "YES" => {
                mismatches.push(Mismatch::Nullable { need });
            }
            Some(_) => {}
        }
    }
    mismatches
}

/// The recommended indexes the database behind `pool` does not have, whatever their names.
pub async fn missing_indexes<'i>(
    pool: &PgPool,
    recommended: &'i [RecommendedIndex],
) -> Result<Vec<&'i RecommendedIndex>, sqlx::Error> {
    let definitions: Vec<(String, String)> = sqlx::query_as(
        "SELECT tablename::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    )
    .fetch_all(pool)
    .await?;
    Ok(recommended
        .iter()
        .filter(|index| {
            let key = format!("({})", index.key);
            !definitions
                .iter()
                .any(|(table, definition)| table == index.table && definition.ends_with(&key))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: ColumnNeed = nullable("TaskRun", "runTags", ColumnType::TextArray);
    const STATUS: ColumnNeed = required("TaskRun", "status", ColumnType::Enum("TaskRunStatus"));

    fn column(table: &str, name: &str, data_type: &str, udt: &str, nullable: bool) -> FoundColumn {
        FoundColumn {
            table_name: table.to_owned(),
            column_name: name.to_owned(),
            data_type: data_type.to_owned(),
            udt_name: udt.to_owned(),
            is_nullable: if nullable { "YES" } else { "NO" }.to_owned(),
        }
    }

    #[test]
    fn a_schema_with_every_column_has_no_mismatch() {
        let found = [
            column("TaskRun", "runTags", "ARRAY", "_text", true),
            column("TaskRun", "status", "USER-DEFINED", "TaskRunStatus", false),
        ];
        assert_eq!(compare(&[TAGS, STATUS], &found), Vec::new());
    }

    #[test]
    fn a_nullable_column_read_as_a_plain_value_is_a_mismatch() {
        let found = [
            column("TaskRun", "runTags", "ARRAY", "_text", true),
            column("TaskRun", "status", "USER-DEFINED", "TaskRunStatus", true),
        ];
        let mismatches = compare(&[TAGS, STATUS], &found);
        assert_eq!(mismatches, vec![Mismatch::Nullable { need: STATUS }]);
        assert_eq!(
            mismatches[0].to_string(),
            "column \"TaskRun\".\"status\": expected enum \"TaskRunStatus\" NOT NULL, found a \
             nullable column"
        );
    }

    #[test]
    fn a_missing_or_retyped_column_names_what_was_expected_and_found() {
        let found = [column("TaskRun", "status", "text", "text", false)];
        let messages: Vec<String> = compare(&[TAGS, STATUS], &found)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            vec![
                "column \"TaskRun\".\"runTags\": expected text[], found no such column",
                "column \"TaskRun\".\"status\": expected enum \"TaskRunStatus\" NOT NULL, found text",
            ]
        );
    }

    #[test]
    fn a_missing_table_is_named_once() {
        let mismatches = compare(&[TAGS, STATUS], &[]);
        assert_eq!(
            mismatches,
            vec![Mismatch::MissingTable { table: "TaskRun" }]
        );
    }
}
