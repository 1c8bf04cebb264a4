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
        let production = self.environment(project, "prod", "PRODUCTION", 60.0, None);
        let staging = self.environment(project, "staging", "STAGING", 8.0, None);
        let development = self.environment(project, "dev", "DEVELOPMENT", 6.0, Some(owner));
        let orphaned_development =
            self.environment(project, "dev", "DEVELOPMENT", 3.0, Some(departed_owner));
        // Runs execute on branches, never on the preview environment itself.
        let preview = self.environment(project, "preview", "PREVIEW", 0.0, None);
        let branch = self.environment(project, "feature-checkout", "PREVIEW", 4.0, None);
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
        self.environment(project, "prod", "PRODUCTION", 7.0, None);
        self.environment(project, "dev", "DEVELOPMENT", 1.5, Some(owner));
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
