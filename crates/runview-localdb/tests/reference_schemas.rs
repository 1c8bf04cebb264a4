//! The reference schemas against the record of the upstream's real tables.
//!
//! `migrations/expected_columns.tsv` lists every column of every table runview reads, per schema,
//! as PostgreSQL describes it once the upstream's own migrations have run: the type as
//! `format_type` prints it, whether it is nullable, and the default as `pg_get_expr` prints it.
//! `migrations/expected_indexes.tsv` lists the upstream's indexes on the run-ops tables, each as
//! `pg_get_indexdef` prints it without the part that names it ("[UNIQUE ]<method> (<keys>)...").
//! Each schema is applied to an empty database and must match both files exactly: runview's
//! recommended indexes are not part of either schema.

use std::collections::{BTreeMap, BTreeSet};

use runview_localdb::testing::TestDatabase;
use runview_localdb::{Schema, apply_recommended_indexes, apply_schema};
use sqlx::PgPool;

const EXPECTED_COLUMNS: &str = include_str!("../../../migrations/expected_columns.tsv");
const EXPECTED_INDEXES: &str = include_str!("../../../migrations/expected_indexes.tsv");

/// The name of a schema in the first column of the files.
fn file_name(schema: Schema) -> &'static str {
    match schema {
        Schema::Full => "full",
        Schema::RunOps => "runops",
    }
}

/// How a column is declared: type, nullable (`yes`/`no`) and default (empty when none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    type_name: String,
    nullable: String,
    default: String,
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let null = if self.nullable == "yes" {
            "null"
        } else {
            "NOT NULL"
        };
        write!(f, "{} {null}", self.type_name)?;
        if !self.default.is_empty() {
            write!(f, " DEFAULT {}", self.default)?;
        }
        Ok(())
    }
}

/// (table, column) → declaration.
type Columns = BTreeMap<(String, String), Column>;

/// The data lines of a TSV file whose first column is `schema`, split into their fields. The
/// header line and blank lines are skipped.
fn tsv_rows<'a>(text: &'a str, schema: Schema) -> impl Iterator<Item = Vec<&'a str>> + 'a {
    let name = file_name(schema);
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(move |fields| fields[0] == name)
}

fn expected_columns(schema: Schema) -> Columns {
    let mut columns = Columns::new();
    for fields in tsv_rows(EXPECTED_COLUMNS, schema) {
        let [_, table, column, type_name, nullable, rest @ ..] = &fields[..] else {
            panic!("expected_columns.tsv: a line with too few fields: {fields:?}");
        };
        assert!(
            matches!(*nullable, "yes" | "no"),
            "expected_columns.tsv: nullable is yes or no in {fields:?}"
        );
        let declaration = Column {
            type_name: (*type_name).to_owned(),
            nullable: (*nullable).to_owned(),
            default: rest.first().copied().unwrap_or_default().to_owned(),
        };
        let key = ((*table).to_owned(), (*column).to_owned());
        assert!(
            columns.insert(key, declaration).is_none(),
            "expected_columns.tsv: {fields:?} is listed twice"
        );
    }
    assert!(!columns.is_empty(), "no columns listed for {schema:?}");
    columns
}

/// table → index definitions without names.
fn expected_indexes(schema: Schema) -> BTreeMap<String, BTreeSet<String>> {
    let mut indexes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for fields in tsv_rows(EXPECTED_INDEXES, schema) {
        let [_, table, definition] = &fields[..] else {
            panic!("expected_indexes.tsv: a line without three fields: {fields:?}");
        };
        indexes
            .entry((*table).to_owned())
            .or_default()
            .insert((*definition).to_owned());
    }
    indexes
}

/// The columns PostgreSQL has for `tables`, described as the file describes them.
async fn applied_columns(pool: &PgPool, tables: &[String]) -> Columns {
    let rows: Vec<(String, String, String, bool, Option<String>)> = sqlx::query_as(
        r#"
        SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY($1)
          AND a.attnum > 0 AND NOT a.attisdropped
        "#,
    )
    .bind(tables)
    .fetch_all(pool)
    .await
    .expect("read the columns");
    rows.into_iter()
        .map(|(table, column, type_name, not_null, default)| {
            let declaration = Column {
                type_name,
                nullable: if not_null { "no" } else { "yes" }.to_owned(),
                default: default.unwrap_or_default(),
            };
            ((table, column), declaration)
        })
        .collect()
}

/// (table, index name, definition without the name) of every index on `tables`.
async fn applied_indexes(pool: &PgPool, tables: &[String]) -> Vec<(String, String, String)> {
    sqlx::query_as(
        r#"
        SELECT c.relname::text, i.relname::text,
               regexp_replace(pg_get_indexdef(x.indexrelid),
                              '^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING ', '\1')
        FROM pg_index x
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname = ANY($1)
        "#,
    )
    .bind(tables)
    .fetch_all(pool)
    .await
    .expect("read the indexes")
}

/// Every way `applied` differs from `expected`, one line each.
fn column_differences(expected: &Columns, applied: &Columns) -> Vec<String> {
    let mut differences = Vec::new();
    for ((table, column), want) in expected {
        match applied.get(&(table.clone(), column.clone())) {
            None => differences.push(format!("missing  \"{table}\".\"{column}\" {want}")),
            Some(have) if have != want => differences.push(format!(
                "differs  \"{table}\".\"{column}\": expected {want}, applied {have}"
            )),
            Some(_) => {}
        }
    }
    for ((table, column), have) in applied {
        if !expected.contains_key(&(table.clone(), column.clone())) {
            differences.push(format!("extra    \"{table}\".\"{column}\" {have}"));
        }
    }
    differences
}

async fn applied_database(schema: Schema) -> TestDatabase {
    let database = TestDatabase::create(&[]).await;
    apply_schema(database.pool(), schema)
        .await
        .unwrap_or_else(|error| panic!("{schema:?} applies to an empty database: {error}"));
    database
}

#[tokio::test]
async fn each_reference_schema_has_exactly_the_expected_columns() {
    for schema in [Schema::Full, Schema::RunOps] {
        let expected = expected_columns(schema);
        let tables: Vec<String> = expected
            .keys()
            .map(|(table, _)| table.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let database = applied_database(schema).await;
        let applied = applied_columns(database.pool(), &tables).await;

        let differences = column_differences(&expected, &applied);
        assert!(
            differences.is_empty(),
            "{schema:?} differs from migrations/expected_columns.tsv in {} column(s):\n{}",
            differences.len(),
            differences.join("\n")
        );
    }
}

#[tokio::test]
async fn each_reference_schema_has_exactly_the_upstream_indexes() {
    for schema in [Schema::Full, Schema::RunOps] {
        let expected = expected_indexes(schema);
        assert!(!expected.is_empty(), "no indexes listed for {schema:?}");
        let tables: Vec<String> = expected.keys().cloned().collect();
        let database = applied_database(schema).await;
        let applied = applied_indexes(database.pool(), &tables).await;

        let mut problems = Vec::new();
        for (table, definitions) in &expected {
            for definition in definitions {
                let present = applied
                    .iter()
                    .any(|(t, _, applied)| t == table && applied == definition);
                if !present {
                    problems.push(format!("missing  \"{table}\": {definition}"));
                }
            }
        }
        for (table, name, definition) in &applied {
            let expected_here = expected.get(table).is_some_and(|d| d.contains(definition));
            if !expected_here {
                problems.push(format!("extra    \"{table}\": {name} {definition}"));
            }
        }
        assert!(
            problems.is_empty(),
            "{schema:?} differs from migrations/expected_indexes.tsv in {} index(es):\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}

/// The recommended indexes apply on top of either schema, twice as well as once, and add
/// nothing but runview's own indexes, each named for runview.
#[tokio::test]
async fn the_recommended_indexes_add_only_runview_s_own_to_either_schema() {
    for schema in [Schema::Full, Schema::RunOps] {
        let tables: Vec<String> = expected_indexes(schema).keys().cloned().collect();
        let database = applied_database(schema).await;
        let before = applied_indexes(database.pool(), &tables).await;
        for _ in 0..2 {
            apply_recommended_indexes(database.pool())
                .await
                .unwrap_or_else(|error| {
                    panic!("{schema:?} takes the recommended indexes: {error}")
                });
        }
        let mut added: Vec<String> = applied_indexes(database.pool(), &tables)
            .await
            .into_iter()
            .filter(|index| !before.contains(index))
            .map(|(_, name, _)| name)
            .collect();
        added.sort();
        assert_eq!(
            added,
            [
                "runview_BatchTaskRun_environment_createdAt_id_idx",
                "runview_TaskRun_environment_createdAt_id_idx",
            ],
            "{schema:?}"
        );
    }
}

#[test]
fn a_column_difference_names_the_column_and_both_declarations() {
    let column = |type_name: &str, nullable: &str, default: &str| Column {
        type_name: type_name.to_owned(),
        nullable: nullable.to_owned(),
        default: default.to_owned(),
    };
    let key = |table: &str, name: &str| (table.to_owned(), name.to_owned());
    let expected = Columns::from([
        (key("TaskRun", "runTags"), column("text[]", "yes", "")),
        (key("TaskRun", "spanId"), column("text", "no", "")),
    ]);
    let applied = Columns::from([
        (
            key("TaskRun", "runTags"),
            column("text[]", "no", "ARRAY[]::text[]"),
        ),
        (key("TaskRun", "legacy"), column("integer", "yes", "")),
    ]);

    assert_eq!(
        column_differences(&expected, &applied),
        [
            "differs  \"TaskRun\".\"runTags\": expected text[] null, \
             applied text[] NOT NULL DEFAULT ARRAY[]::text[]",
            "missing  \"TaskRun\".\"spanId\" text NOT NULL",
            "extra    \"TaskRun\".\"legacy\" integer null",
        ]
    );
}
