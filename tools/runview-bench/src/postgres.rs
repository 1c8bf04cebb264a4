//! The PostgreSQL the benchmark runs against: a private, tuned server in a temporary directory,
//! or a server the caller names; and the seeded databases of one dataset on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use runview_localdb::LocalPostgres;
use runview_seed::{Deployment, DeploymentUrls, SeedPlan};
use sqlx::{Connection, PgConnection, PgPool};

/// Settings for a benchmark rather than for a test: the dataset fits in shared buffers, as the
/// hot part of a production database does, and there are connections for pgbench at c=64 on
/// both stores beside runview's pools.
const TUNING: [(&str, &str); 5] = [
    ("shared_buffers", "'512MB'"),
    ("effective_cache_size", "'4GB'"),
    ("max_connections", "400"),
    ("random_page_cost", "1.1"),
    ("jit", "off"),
];

pub enum Server {
    Private {
        postgres: LocalPostgres,
        _dir: tempfile::TempDir,
    },
    External {
        /// A URL whose database part is replaced per database.
        url: String,
    },
}

impl Server {
    /// Starts a private server, tunes it and restarts it so that the settings apply.
    pub async fn private() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("runview-bench").tempdir()?;
        let data_dir = dir.path().join("data");
        let postgres = LocalPostgres::start(&data_dir).await?;
        let mut conn = PgConnection::connect(&postgres.url("postgres")).await?;
        for (name, value) in TUNING {
            sqlx::raw_sql(&format!("ALTER SYSTEM SET {name} = {value}"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        postgres.stop()?;
        let postgres = LocalPostgres::start(&data_dir).await?;
        Ok(Self::Private {
            postgres,
            _dir: dir,
        })
    }

    pub fn external(url: String) -> Self {
        Self::External { url }
    }

    pub fn url(&self, database: &str) -> String {
        match self {
            Self::Private { postgres, .. } => postgres.url(database),
            Self::External { url } => with_database(url, database),
        }
    }

    pub async fn version(&self) -> anyhow::Result<String> {
        let mut conn = PgConnection::connect(&self.url("postgres")).await?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(version)
    }

    /// A fresh, empty database (dropped first if a previous run left it).
    async fn recreate(&self, database: &str) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect(&self.url("postgres")).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        ))
        .execute(&mut conn)
        .await?;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{database}\""))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }
}

/// `url` with its database (the last path segment) replaced, query kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// One seeded dataset: its databases' URLs and what the load needs to know about it.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub runs: usize,
    pub control_plane: String,
    pub legacy: String,
    /// None in passthrough: every run lives in LEGACY.
    pub new: Option<String>,
    /// The environment with the most runs, and how many it has.
    pub environment_id: String,
    pub environment_runs: i64,
    pub seeded_in: Duration,
}

impl Dataset {
    /// The run-ops stores' URLs, LEGACY first.
    pub fn store_urls(&self) -> Vec<String> {
        std::iter::once(self.legacy.clone())
            .chain(self.new.clone())
            .collect()
    }

    /// A pool on each run-ops store, LEGACY first.
    pub async fn connect_stores(&self) -> anyhow::Result<Vec<PgPool>> {
        let mut stores = Vec::new();
        for url in self.store_urls() {
            stores.push(PgPool::connect(&url).await?);
        }
        Ok(stores)
    }
}

/// Creates and seeds the databases `<prefix>_cp`, `<prefix>_legacy` and (split) `<prefix>_new`.
pub async fn seed(
    server: &Server,
    prefix: &str,
    runs: usize,
    split: bool,
) -> anyhow::Result<Dataset> {
    let names = [
        format!("{prefix}_cp"),
        format!("{prefix}_legacy"),
        format!("{prefix}_new"),
    ];
    let used = if split { &names[..] } else { &names[..2] };
    for name in used {
        server.recreate(name).await?;
    }
    let urls: Vec<String> = used.iter().map(|name| server.url(name)).collect();
    // Without a NEW database every run lands in LEGACY, which is then also NEW.
    let deployment = Deployment::connect(DeploymentUrls {
        control_plane: &urls[0],
        legacy: &urls[1],
        new: urls.get(2).unwrap_or(&urls[1]),
    })
    .await?;
    deployment.create_schemas().await?;

    let plan = SeedPlan {
        runs,
        ..SeedPlan::demo(chrono::Utc::now())
    };
    let started = Instant::now();
    let written = AtomicU64::new(0);
    let seeding = deployment.seed(&plan, &written);
    let progress = async {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            eprintln!(
                "  seeded {} of {runs} runs",
                written.load(Ordering::Relaxed)
            );
        }
    };
    tokio::select! {
        seeded = seeding => { seeded?; }
        () = progress => unreachable!("the progress loop never ends"),
    }
    deployment.close().await;
    let seeded_in = started.elapsed();
    let mut dataset = Dataset {
        runs,
        control_plane: urls[0].clone(),
        legacy: urls[1].clone(),
        new: urls.get(2).cloned(),
        environment_id: String::new(),
        environment_runs: 0,
        seeded_in,
    };
    let stores = dataset.connect_stores().await?;
    dataset.environment_id = sqlx::query_scalar(
        r#"SELECT "runtimeEnvironmentId" FROM "TaskRun"
           GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"#,
    )
    .fetch_one(&stores[0])
    .await?;
    for store in stores {
        let runs: i64 = sqlx::query_scalar(
            r#"SELECT count(*) FROM "TaskRun" WHERE "runtimeEnvironmentId" = $1"#,
        )
        .bind(&dataset.environment_id)
        .fetch_one(&store)
        .await?;
        dataset.environment_runs += runs;
        store.close().await;
    }
    Ok(dataset)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced_and_its_query_kept() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "a"
            ),
            "postgres://postgres@127.0.0.1:5432/a?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "b"), "postgres://u@h:1/b");
    }
}
