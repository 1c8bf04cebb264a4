//! The control plane of a seeded dataset: organizations, projects, environments and their owners,
//! workers and schedules. It is small, so it is built in memory first; the run generators then
//! draw every control-plane reference from it, which is what keeps the stores consistent with it.

use std::ops::Range;

use chrono::{DateTime, TimeDelta};
use rand::{Rng, rngs::StdRng};

use crate::plan::SeedPlan;
use crate::values::{
    RandomStream, SCHEDULED_TASKS, TIMEZONES, alphanumeric, cuid, hex, lowercase, pick,
};

pub(crate) struct User {
    pub id: String,
    pub email: String,
    /// The "AuthenticationMethod" label.
    pub authentication: &'static str,
    pub name: Option<String>,
    /// Empty for some users: the upstream stores what onboarding was given.
    pub display_name: Option<String>,
}

pub(crate) struct Member {
    pub id: String,
    pub organization: usize,
    pub user_id: String,
    /// The "OrgMemberRole" label.
    pub role: &'static str,
}

pub(crate) struct Organization {
    pub id: String,
    pub slug: String,
    pub title: String,
}

pub(crate) struct Project {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub external_ref: String,
    pub organization: usize,
    pub schedules: Range<usize>,
}

pub(crate) struct Environment {
    pub id: String,
    pub slug: String,
    /// The "RuntimeEnvironmentType" label.
    pub kind: &'static str,
    pub api_key: String,
    pub pk_api_key: String,
    pub shortcode: String,
    pub project: usize,
    pub parent: Option<usize>,
    pub branch_name: Option<&'static str>,
    pub owner_member_id: Option<String>,
    /// Relative share of the runs this environment receives.
    pub run_weight: f64,
    /// Its workers, oldest first.
    pub workers: Range<usize>,
}

pub(crate) struct Worker {
    pub id: String,
    pub friendly_id: String,
    pub version: String,
    pub content_hash: String,
    pub sdk_version: &'static str,
    pub environment: usize,
    pub created_at: i64,
}

pub(crate) struct Schedule {
    pub id: String,
    pub friendly_id: String,
    /// The "ScheduleType" label.
    pub kind: &'static str,
    pub task: &'static str,
    pub deduplication_key: String,
    pub user_provided_key: bool,
    pub cron: &'static str,
    pub description: &'static str,
    pub timezone: &'static str,
    pub external_id: Option<String>,
    pub project: usize,
}

/// The environments of the first organization that the highlights and showcase rows use.
pub(crate) struct Roles {
    pub production: usize,
    pub staging: usize,
    pub development: usize,
    pub orphaned_development: usize,
    pub branch: usize,
}

pub(crate) struct Catalog {
    pub users: Vec<User>,
    pub members: Vec<Member>,
    pub organizations: Vec<Organization>,
    pub projects: Vec<Project>,
    pub environments: Vec<Environment>,
    pub workers: Vec<Worker>,
    pub schedules: Vec<Schedule>,
    pub roles: Roles,
    /// When the control-plane rows were created: before any run.
    pub founded_at: i64,
}

const ORGANIZATIONS: [(&str, &str); 5] = [
    ("acme", "Acme Corp"),
    ("globex", "Globex"),
    ("initech", "Initech"),
    ("umbrella", "Umbrella Labs"),
    ("hooli", "Hooli"),
];

/// Relative shares of the runs each environment receives. Like a real deployment, one busy
/// production environment holds most runs (the first organization's; the benchmark's largest)
/// and the others share the rest.
mod run_weight {
    pub const PRODUCTION: f64 = 85.0;
    pub const STAGING: f64 = 4.0;
    pub const DEVELOPMENT: f64 = 3.0;
    pub const ORPHANED_DEVELOPMENT: f64 = 1.5;
    pub const BRANCH: f64 = 1.5;
    /// Runs execute on branches, never on the preview environment itself.
    pub const PREVIEW: f64 = 0.0;
    pub const FIRST_ORGANIZATION: f64 =
        PRODUCTION + STAGING + DEVELOPMENT + ORPHANED_DEVELOPMENT + BRANCH + PREVIEW;
    pub const EXTRA_PRODUCTION: f64 = 2.0;
    pub const EXTRA_DEVELOPMENT: f64 = 0.5;
    pub const EXTRA_ORGANIZATION: f64 = EXTRA_PRODUCTION + EXTRA_DEVELOPMENT;
}

/// The expected share of the regular runs (all but the showcase rows) that land in the first
/// organization's production environment, the largest, with `extra_organizations`.
pub(crate) fn production_share(extra_organizations: usize) -> f64 {
    run_weight::PRODUCTION
        / (run_weight::FIRST_ORGANIZATION
            + extra_organizations as f64 * run_weight::EXTRA_ORGANIZATION)
}

const SDK_VERSIONS: [&str; 3] = ["3.3.17", "4.0.4", "4.1.0"];

const AUTHENTICATION_METHODS: [&str; 3] = ["GITHUB", "MAGIC_LINK", "GOOGLE"];

impl Catalog {
    pub fn generate(plan: &SeedPlan) -> Self {
        let mut builder = Builder {
            rng: RandomStream::Catalog.rng(plan.seed),
            founded_at: (plan.now - plan.history - TimeDelta::days(30)).timestamp_millis(),
            users: Vec::new(),
            members: Vec::new(),
            organizations: Vec::new(),
            projects: Vec::new(),
            environments: Vec::new(),
        };
        let roles = builder.first_organization();
        for index in 1..=plan.extra_organizations {
            builder.extra_organization(index);
        }
        let workers = builder.workers(plan);
        let schedules = builder.schedules(plan);
        Self {
            users: builder.users,
            members: builder.members,
            organizations: builder.organizations,
            projects: builder.projects,
            environments: builder.environments,
            workers,
            schedules,
            roles,
            founded_at: builder.founded_at,
        }
    }

    /// The worker an environment ran at `unix_ms`: its newest deployment by then.
    pub fn worker_at(&self, environment: usize, unix_ms: i64) -> &Worker {
        let workers = &self.workers[self.environments[environment].workers.clone()];
        let deployed = workers.partition_point(|w| w.created_at <= unix_ms);
        &workers[deployed.saturating_sub(1)]
    }

    pub fn project_of(&self, environment: usize) -> &Project {
        &self.projects[self.environments[environment].project]
    }
}

struct Builder {
    rng: StdRng,
    founded_at: i64,
    users: Vec<User>,
    members: Vec<Member>,
    organizations: Vec<Organization>,
    projects: Vec<Project>,
    environments: Vec<Environment>,
}

impl Builder {
    /// The organization the demo revolves around: one environment of every kind, including a
    /// development environment whose owner left and a preview branch.
    fn first_organization(&mut self) -> Roles {
        let project = self.organization(0);
        let owner = self.member(0, Some("Alice Johnson"), Some("Alice"));
        // Members without an environment: one who left the display name empty, one who never
        // gave a name at all.
        self.member(0, Some("Bob Smith"), Some(""));
        self.member(0, None, None);
        let departed_owner = cuid(&mut self.rng, self.founded_at);
        let production =
            self.environment(project, "prod", "PRODUCTION", run_weight::PRODUCTION, None);
        let staging = self.environment(project, "staging", "STAGING", run_weight::STAGING, None);
        let development = self.environment(
            project,
            "dev",
            "DEVELOPMENT",
            run_weight::DEVELOPMENT,
            Some(owner),
        );
        let orphaned_development = self.environment(
            project,
            "dev",
            "DEVELOPMENT",
            run_weight::ORPHANED_DEVELOPMENT,
            Some(departed_owner),
        );
        let preview = self.environment(project, "preview", "PREVIEW", run_weight::PREVIEW, None);
        let branch = self.environment(
            project,
            "feature-checkout",
            "PREVIEW",
            run_weight::BRANCH,
            None,
        );
        self.environments[branch].parent = Some(preview);
        self.environments[branch].branch_name = Some("feature/checkout");
        Roles {
            production,
            staging,
            development,
            orphaned_development,
            branch,
        }
    }

    fn extra_organization(&mut self, index: usize) {
        let project = self.organization(index);
        let title = self.organizations[index].title.clone();
        // No display name (NULL), or an empty one, as the upstream may store either.
        let display_name = index.is_multiple_of(2).then_some("");
        let owner = self.member(index, Some(&format!("{title} Admin")), display_name);
        let production = run_weight::EXTRA_PRODUCTION;
        self.environment(project, "prod", "PRODUCTION", production, None);
        let development = run_weight::EXTRA_DEVELOPMENT;
        self.environment(project, "dev", "DEVELOPMENT", development, Some(owner));
    }

    /// An organization and its project; returns the project.
    fn organization(&mut self, index: usize) -> usize {
        let (slug, title) = match ORGANIZATIONS.get(index) {
            Some((slug, title)) => ((*slug).to_owned(), (*title).to_owned()),
            None => (format!("org-{index}"), format!("Organization {index}")),
        };
        self.projects.push(Project {
            id: cuid(&mut self.rng, self.founded_at),
            slug: format!("{slug}-app"),
            name: format!("{title} App"),
            external_ref: format!("proj_{}", lowercase(&mut self.rng, 20)),
            organization: self.organizations.len(),
            schedules: 0..0,
        });
        self.organizations.push(Organization {
            id: cuid(&mut self.rng, self.founded_at),
            slug,
            title,
        });
        self.projects.len() - 1
    }

    /// A user and their membership of `organization` (its first member is its admin); returns
    /// the member id.
    fn member(
        &mut self,
        organization: usize,
        name: Option<&str>,
        display_name: Option<&str>,
    ) -> String {
        let user_id = cuid(&mut self.rng, self.founded_at);
        let member_id = cuid(&mut self.rng, self.founded_at);
        let slug = &self.organizations[organization].slug;
        let local_part = match name {
            Some(name) => name.to_lowercase().replace(' ', "."),
            None => format!("user{}", self.users.len()),
        };
        let first_member = !self.members.iter().any(|m| m.organization == organization);
        self.users.push(User {
            id: user_id.clone(),
            email: format!("{local_part}@{slug}.example"),
            authentication: AUTHENTICATION_METHODS[self.users.len() % AUTHENTICATION_METHODS.len()],
            name: name.map(str::to_owned),
            display_name: display_name.map(str::to_owned),
        });
        self.members.push(Member {
            id: member_id.clone(),
            organization,
            user_id,
            role: if first_member { "ADMIN" } else { "MEMBER" },
        });
        member_id
    }

    fn environment(
        &mut self,
        project: usize,
        slug: &str,
        kind: &'static str,
        run_weight: f64,
        owner_member_id: Option<String>,
    ) -> usize {
        let key_kind = match kind {
            "PRODUCTION" => "prod",
            "STAGING" => "stg",
            "DEVELOPMENT" => "dev",
            _ => "preview",
        };
        self.environments.push(Environment {
            id: cuid(&mut self.rng, self.founded_at),
            slug: slug.to_owned(),
            kind,
            api_key: format!("tr_{key_kind}_{}", alphanumeric(&mut self.rng, 24)),
            pk_api_key: format!("pk_{key_kind}_{}", alphanumeric(&mut self.rng, 24)),
            shortcode: lowercase(&mut self.rng, 8),
            project,
            parent: None,
            branch_name: None,
            owner_member_id,
            run_weight,
            workers: 0..0,
        });
        self.environments.len() - 1
    }

    /// Deployments spread from before the first run to shortly before `now`, so that every run
    /// finds the version it was locked to. Versions are `<deploy date>.<n-th deploy that day>`.
    fn workers(&mut self, plan: &SeedPlan) -> Vec<Worker> {
        let first = (plan.now - plan.history - TimeDelta::days(1)).timestamp_millis();
        let span = (plan.history + TimeDelta::hours(23)).num_milliseconds();
        let count = plan.workers_per_environment as i64;
        let mut workers = Vec::new();
        for (index, environment) in self.environments.iter_mut().enumerate() {
            let start = workers.len();
            let mut previous_date = String::new();
            let mut deploys_that_day = 0;
            for k in 0..count {
                let created_at = first + span * k / count + self.rng.random_range(0..3_600_000);
                let date = DateTime::from_timestamp_millis(created_at)
                    .expect("deployments lie within the plan's history")
                    .format("%Y%m%d")
                    .to_string();
                deploys_that_day = if date == previous_date {
                    deploys_that_day + 1
                } else {
                    1
                };
                workers.push(Worker {
                    id: cuid(&mut self.rng, created_at),
                    friendly_id: format!("worker_{}", cuid(&mut self.rng, created_at)),
                    version: format!("{date}.{deploys_that_day}"),
                    content_hash: hex(&mut self.rng, 32),
                    sdk_version: SDK_VERSIONS[(k as usize * SDK_VERSIONS.len()) / count as usize],
                    environment: index,
                    created_at,
                });
                previous_date = date;
            }
            environment.workers = start..workers.len();
        }
        workers
    }

    /// Schedules of both kinds; imperative ones carry an external id and, for some, the user's
    /// own deduplication key.
    fn schedules(&mut self, plan: &SeedPlan) -> Vec<Schedule> {
        let mut schedules = Vec::new();
        for (index, project) in self.projects.iter_mut().enumerate() {
            let start = schedules.len();
            for k in 0..plan.schedules_per_project {
                let (task, cron, description) = SCHEDULED_TASKS[k % SCHEDULED_TASKS.len()];
                let imperative = k % 2 == 1;
                let user_provided_key = imperative && k % 4 == 1;
                let deduplication_key = if user_provided_key {
                    format!("{}-{task}-{k}", project.slug)
                } else {
                    hex(&mut self.rng, 12)
                };
                schedules.push(Schedule {
                    id: cuid(&mut self.rng, self.founded_at),
                    friendly_id: format!("sched_{}", lowercase(&mut self.rng, 21)),
                    kind: if imperative {
                        "IMPERATIVE"
                    } else {
                        "DECLARATIVE"
                    },
                    task,
                    deduplication_key,
                    user_provided_key,
                    cron,
                    description,
                    timezone: if k == 0 {
                        "UTC"
                    } else {
                        pick(&mut self.rng, &TIMEZONES)
                    },
                    external_id: imperative.then(|| format!("user_{}", 1000 + k)),
                    project: index,
                });
            }
            project.schedules = start..schedules.len();
        }
        schedules
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn the_first_production_environment_holds_the_documented_share_of_the_runs() {
        let plan = SeedPlan::demo(Utc::now());
        let catalog = Catalog::generate(&plan);
        let weights: Vec<f64> = catalog.environments.iter().map(|e| e.run_weight).collect();
        let total: f64 = weights.iter().sum();
        let production = weights[catalog.roles.production];
        assert!(weights.iter().all(|&weight| weight <= production));
        assert!((production / total - plan.largest_environment_share()).abs() < 1e-12);
        assert!((plan.largest_environment_share() - 0.85).abs() < 1e-12);
        // A few environments hold most runs: the largest three nearly all of them.
        let mut sorted = weights.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert!(sorted[..3].iter().sum::<f64>() / total > 0.9);
        // Every environment but the preview parent has runs, for the tests that list them.
        let idle = weights.iter().filter(|&&weight| weight == 0.0).count();
        assert_eq!(idle, 1);
    }

    #[test]
    fn more_organizations_shrink_the_largest_share() {
        for extra_organizations in [0, 5] {
            let plan = SeedPlan {
                extra_organizations,
                ..SeedPlan::demo(Utc::now())
            };
            let catalog = Catalog::generate(&plan);
            let total: f64 = catalog.environments.iter().map(|e| e.run_weight).sum();
            let production = catalog.environments[catalog.roles.production].run_weight;
            assert!((production / total - plan.largest_environment_share()).abs() < 1e-12);
        }
        assert!((production_share(0) - 85.0 / 95.0).abs() < 1e-12);
    }
}
