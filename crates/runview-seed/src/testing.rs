//! Seeded test databases: a control plane, LEGACY and NEW, each a fresh database of the test
//! server, filled the way every deployment is ([`crate::create_and_seed`]).

use runview_localdb::testing::TestDatabase;

use crate::{DeploymentUrls, SeedPlan, SeedReport, create_and_seed};

pub struct SeededDatabases {
    pub control_plane: TestDatabase,
    pub legacy: TestDatabase,
    pub new: TestDatabase,
    pub report: SeedReport,
}

impl SeededDatabases {
    /// Three empty databases, given their reference schemas and seeded with `plan`.
    pub async fn create(plan: &SeedPlan) -> Self {
        let (control_plane, legacy, new) = tokio::join!(
            TestDatabase::create(&[]),
            TestDatabase::create(&[]),
            TestDatabase::create(&[]),
        );
        let urls = DeploymentUrls {
            control_plane: control_plane.url(),
            legacy: legacy.url(),
            new: new.url(),
        };
        let report = create_and_seed(urls, plan)
            .await
            .unwrap_or_else(|error| panic!("the test databases seed: {error}"));
        Self {
            control_plane,
            legacy,
            new,
            report,
        }
    }
}
