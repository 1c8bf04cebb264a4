//! The deployment files in deploy/ checked against the server itself, so they cannot drift from
//! it: ports, probe service names, configuration keys, the shutdown budget against the grace
//! period, and the wiring between the Kubernetes objects. No server, no database.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use runview::config::{Config, Flags, LogFormat};
use runview::server::{LIVENESS, READINESS};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use yaml_serde::Value;

const PREFIX: &str = "RUNVIEW_";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn read(relative: &str) -> String {
    let path = deploy_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Every YAML document of a file under deploy/kubernetes.
fn documents(file: &str) -> Vec<Value> {
    let text = read(&format!("kubernetes/{file}"));
    yaml_serde::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|error| panic!("{file}: {error}"))
        })
        .filter(|document| !document.is_null())
        .collect()
}

/// The only document of a file, checked to be of `kind`.
fn object(file: &str, kind: &str) -> Value {
    let mut all = documents(file);
    assert_eq!(all.len(), 1, "{file} holds exactly one object");
    let object = all.remove(0);
    assert_eq!(text(&object, "kind"), kind, "{file}");
    object
}

/// The value at a dotted path (`spec.template.spec`); Null when absent.
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |value, key| &value[key])
}

fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string: {:?}", at(value, path)))
}

fn number(value: &Value, path: &str) -> u64 {
    at(value, path).as_u64().unwrap_or_else(|| {
        panic!(
            "{path} is not a non-negative integer: {:?}",
            at(value, path)
        )
    })
}

fn list<'a>(value: &'a Value, path: &str) -> &'a [Value] {
    at(value, path)
        .as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("{path} is not a list: {:?}", at(value, path)))
}

fn string_map(value: &Value, path: &str) -> BTreeMap<String, String> {
    let mapping = at(value, path)
        .as_mapping()
        .unwrap_or_else(|| panic!("{path} is not a mapping: {:?}", at(value, path)));
    mapping
        .iter()
        .map(|(key, value)| {
            let key = key
                .as_str()
                .unwrap_or_else(|| panic!("{path}: a key is not a string"));
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{path}.{key} must be a quoted string, got {value:?}"));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

fn named<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("nothing named {name}"))
}

/// The field names `Config` deserializes, asked from its own `Deserialize` implementation: a
/// deserializer that only records the names the derived code announces for the struct.
fn config_keys() -> BTreeSet<&'static str> {
    struct FieldNames<'a>(&'a mut Vec<&'static str>);

    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom(
                "Config is expected to deserialize as a struct",
            ))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend_from_slice(fields);
            Err(de::Error::custom("field names recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    let mut names = Vec::new();
    let outcome = Config::deserialize(FieldNames(&mut names));
    assert!(
        outcome.is_err(),
        "the recording deserializer never produces a Config"
    );
    let keys: BTreeSet<&'static str> = names.into_iter().collect();
    for expected in [
        "grpc_addr",
        "health_addr",
        "metrics_addr",
        "shutdown_timeout",
    ] {
        assert!(keys.contains(expected), "introspection found {keys:?}");
    }
    keys
}

/// Every `RUNVIEW_*` name runview reads: one per configuration key, plus `RUNVIEW_CONFIG` (the
/// file, a flag's environment fallback).
fn valid_env_names() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = config_keys()
        .into_iter()
        .map(|key| format!("{PREFIX}{}", key.to_uppercase()))
        .collect();
    names.insert(format!("{PREFIX}CONFIG"));
    names
}

/// `RUNVIEW_*` words in a text, placeholders such as `RUNVIEW_<KEY>` or `RUNVIEW_*` excluded.
fn env_names_in(text: &str) -> BTreeSet<String> {
    text.match_indices(PREFIX)
        .filter(|(start, _)| {
            !text[..*start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(start, _)| {
            let rest = &text[start + PREFIX.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('_').to_owned()
        })
        .filter(|suffix| !suffix.is_empty())
        .map(|suffix| format!("{PREFIX}{suffix}"))
        .collect()
}

/// The parts of the Containerfile that matter here.
struct Containerfile {
    exposed: BTreeSet<u16>,
    env: BTreeMap<String, String>,
    user: String,
    entrypoint: String,
}

fn containerfile() -> Containerfile {
    let text = read("Containerfile");
    // Only the final (runtime) stage describes the image.
    let runtime = text
        .rsplit_once("\nFROM ")
        .map(|(_, stage)| stage)
        .expect("a multi-stage Containerfile");
    let mut image = Containerfile {
        exposed: BTreeSet::new(),
        env: BTreeMap::new(),
        user: String::new(),
        entrypoint: String::new(),
    };
    for line in runtime.lines().map(str::trim) {
        let Some((instruction, arguments)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let arguments = arguments.trim();
        match instruction.to_ascii_uppercase().as_str() {
            "EXPOSE" => image
                .exposed
                .extend(arguments.split_whitespace().map(|port| {
                    let port = port.trim_end_matches("/tcp");
                    port.parse::<u16>()
                        .unwrap_or_else(|_| panic!("EXPOSE {port}"))
                })),
            "ENV" => {
                for pair in arguments.split_whitespace() {
                    let (key, value) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("ENV {pair}: use KEY=VALUE"));
                    image
                        .env
                        .insert(key.to_owned(), value.trim_matches('"').to_owned());
                }
            }
            "USER" => arguments.clone_into(&mut image.user),
            "ENTRYPOINT" => arguments.clone_into(&mut image.entrypoint),
            _ => {}
        }
    }
    image
}

/// The Kubernetes objects, parsed once per test.
struct Manifests {
    deployment: Value,
    configmap: Value,
    secrets: Vec<Value>,
    service: Value,
    headless: Value,
    hpa: Value,
    pdb: Value,
}

impl Manifests {
    fn load() -> Self {
        Self {
            deployment: object("deployment.yaml", "Deployment"),
            configmap: object("configmap.yaml", "ConfigMap"),
            secrets: documents("secret.example.yaml"),
            service: object("service.yaml", "Service"),
            headless: object("service-headless.yaml", "Service"),
            hpa: object("hpa.yaml", "HorizontalPodAutoscaler"),
            pdb: object("pdb.yaml", "PodDisruptionBudget"),
        }
    }

    fn pod(&self) -> &Value {
        at(&self.deployment, "spec.template.spec")
    }

    fn container(&self) -> &Value {
        let containers = list(self.pod(), "containers");
        assert_eq!(containers.len(), 1, "one container per pod");
        &containers[0]
    }

    fn pod_labels(&self) -> BTreeMap<String, String> {
        string_map(&self.deployment, "spec.template.metadata.labels")
    }

    fn container_port(&self, name: &str) -> u16 {
        let port = number(
            named(list(self.container(), "ports"), name),
            "containerPort",
        );
        u16::try_from(port).expect("a port number")
    }

    fn configmap_data(&self, name: &str) -> BTreeMap<String, String> {
        assert_eq!(
            text(&self.configmap, "metadata.name"),
            name,
            "the ConfigMap the pod uses"
        );
        string_map(&self.configmap, "data")
    }

    /// The value of `key` in the example Secret `name`; panics when the Secret or key is missing.
    fn secret_value(&self, name: &str, key: &str) -> String {
        let secret = self
            .secrets
            .iter()
            .find(|secret| secret["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("secret.example.yaml has no Secret {name}"));
        string_map(secret, "stringData")
            .remove(key)
            .unwrap_or_else(|| panic!("secret.example.yaml: Secret {name} has no key {key}"))
    }

    /// The container's environment as the kubelet builds it: the image's ENV, then `envFrom`,
    /// then `env` (later wins), references resolved against configmap.yaml and
    /// secret.example.yaml.
    fn environment(&self, image: &Containerfile) -> BTreeMap<String, String> {
        let mut environment = image.env.clone();
        let container = self.container();
        if let Some(sources) = at(container, "envFrom").as_sequence() {
            for source in sources {
                if source["configMapRef"].is_mapping() {
                    environment.extend(self.configmap_data(text(source, "configMapRef.name")));
                } else if source["secretRef"].is_mapping() {
                    let name = text(source, "secretRef.name");
                    let secret = self
                        .secrets
                        .iter()
                        .find(|secret| secret["metadata"]["name"].as_str() == Some(name))
                        .unwrap_or_else(|| panic!("secret.example.yaml has no Secret {name}"));
                    environment.extend(string_map(secret, "stringData"));
                } else {
                    panic!("unexpected envFrom source {source:?}");
                }
            }
        }
        for variable in list(container, "env") {
            let name = text(variable, "name").to_owned();
            let value = if let Some(value) = variable["value"].as_str() {
                value.to_owned()
            } else if variable["valueFrom"]["secretKeyRef"].is_mapping() {
                let reference = at(variable, "valueFrom.secretKeyRef");
                self.secret_value(text(reference, "name"), text(reference, "key"))
            } else if variable["valueFrom"]["configMapKeyRef"].is_mapping() {
                let reference = at(variable, "valueFrom.configMapKeyRef");
                let key = text(reference, "key");
                self.configmap_data(text(reference, "name"))
                    .remove(key)
                    .unwrap_or_else(|| panic!("configmap.yaml has no key {key}"))
            } else {
                panic!("{name}: unsupported env source {variable:?}");
            };
            environment.insert(name, value);
        }
        environment
    }
}

/// `Config::load` with exactly `environment` (nothing from the test process leaks in).
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail fixes the closure's error type"
)]
fn load_config(environment: &BTreeMap<String, String>) -> Config {
    let mut loaded = None;
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        for (name, value) in environment {
            jail.set_env(name, value);
        }
        loaded = Some(Config::load(&Flags::default()).map_err(|error| *error)?);
        Ok(())
    });
    loaded.expect("the configuration loaded")
}

fn defaults() -> Config {
    load_config(&BTreeMap::new())
}

/// The configuration a pod runs with.
fn deployed_config(manifests: &Manifests) -> Config {
    load_config(&manifests.environment(&containerfile()))
}

#[test]
fn every_runview_variable_named_in_deploy_is_a_configuration_key() {
    let valid = valid_env_names();
    let manifests = Manifests::load();
    let mut used = BTreeSet::new();
    used.extend(
        manifests
            .environment(&containerfile())
            .into_keys()
            .filter(|name| name.starts_with(PREFIX)),
    );
    for file in [
        "Containerfile",
        "README.md",
        "kubernetes/configmap.yaml",
        "kubernetes/deployment.yaml",
        "kubernetes/secret.example.yaml",
    ] {
        used.extend(env_names_in(&read(file)));
    }
    assert!(
        used.contains("RUNVIEW_LEGACY_DATABASE_URL"),
        "the scan found {used:?}"
    );
    let unknown: Vec<&String> = used.difference(&valid).collect();
    assert!(
        unknown.is_empty(),
        "not configuration keys: {unknown:?}; the keys are {valid:?}"
    );
}

#[test]
fn the_deployed_configuration_loads_and_is_production_ready() {
    let config = deployed_config(&Manifests::load());
    assert!(
        config.legacy_database_url.is_some(),
        "without a LEGACY URL runview would start its embedded demo database"
    );
    assert!(
        config.split && config.new_database_url.is_some(),
        "split mode with a NEW URL"
    );
    assert!(
        config.control_plane_primary_database_url.is_some(),
        "cache invalidation needs the control-plane primary"
    );
    assert!(
        config.page_token_secrets.is_some() || config.page_token_secrets_file.is_some(),
        "without shared page-token secrets each replica signs with its own random secret"
    );
    assert!(
        config.auth_tokens.is_some() || config.auth_tokens_file.is_some(),
        "bearer tokens are configured"
    );
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn container_ports_are_the_configured_ports() {
    let manifests = Manifests::load();
    let config = deployed_config(&manifests);
    let defaults = defaults();
    for (name, configured, default) in [
        ("grpc", config.grpc_addr, defaults.grpc_addr),
        ("health", config.health_addr, defaults.health_addr),
        ("metrics", config.metrics_addr, defaults.metrics_addr),
    ] {
        assert_eq!(
            manifests.container_port(name),
            configured.port(),
            "container port {name}"
        );
        assert_eq!(
            configured, default,
            "{name}: the manifests keep the server's default address"
        );
        assert!(
            configured.ip().is_unspecified(),
            "{name} listens on every interface"
        );
    }
    let ports = list(manifests.container(), "ports");
    assert_eq!(ports.len(), 3, "exactly the grpc, health and metrics ports");
}

#[test]
fn probes_ask_the_health_port_for_the_servers_service_names() {
    let manifests = Manifests::load();
    let health = deployed_config(&manifests).health_addr.port();
    let container = manifests.container();
    for (probe, service) in [
        ("livenessProbe", LIVENESS),
        ("readinessProbe", READINESS),
        ("startupProbe", READINESS),
    ] {
        let grpc = at(container, &format!("{probe}.grpc"));
        assert_eq!(number(grpc, "port"), u64::from(health), "{probe} port");
        assert_eq!(text(grpc, "service"), service, "{probe} service");
    }
    assert!(
        number(container, "startupProbe.failureThreshold")
            * number(container, "startupProbe.periodSeconds")
            >= 60,
        "the startup probe allows at least a minute"
    );
}

#[test]
fn metrics_are_announced_for_scraping_on_the_metrics_port() {
    let manifests = Manifests::load();
    let metrics = deployed_config(&manifests).metrics_addr.port();
    let annotations = string_map(&manifests.deployment, "spec.template.metadata.annotations");
    assert_eq!(
        annotations.get("prometheus.io/scrape").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        annotations.get("prometheus.io/port"),
        Some(&metrics.to_string())
    );
    assert_eq!(
        annotations.get("prometheus.io/path").map(String::as_str),
        Some("/metrics")
    );
}

#[test]
fn the_grace_period_outlasts_the_shutdown_delay_and_drain() {
    let manifests = Manifests::load();
    let config = deployed_config(&manifests);
    assert!(
        config.shutdown_delay >= Duration::from_secs(1),
        "a shutdown delay lets endpoints update before the listeners close"
    );
    let grace = Duration::from_secs(number(manifests.pod(), "terminationGracePeriodSeconds"));
    let budget = config.shutdown_delay + config.shutdown_timeout;
    assert!(
        grace > budget,
        "terminationGracePeriodSeconds ({grace:?}) must exceed shutdown_delay + shutdown_timeout ({budget:?})"
    );
}

/// `file` is a key of a Secret mounted read-only as a volume (not an environment variable, not a
/// `subPath`), so the kubelet updates it in place and runview reads it again: rotation without a
/// restart.
fn assert_mounted_secret(manifests: &Manifests, file: &Path) {
    let container = manifests.container();
    let mount = list(container, "volumeMounts")
        .iter()
        .find(|mount| file.starts_with(text(mount, "mountPath")))
        .unwrap_or_else(|| panic!("no volume is mounted above {}", file.display()));
    assert_eq!(at(mount, "readOnly").as_bool(), Some(true));
    let volume = named(list(manifests.pod(), "volumes"), text(mount, "name"));
    let secret = text(volume, "secret.secretName");
    let relative = file
        .strip_prefix(text(mount, "mountPath"))
        .expect("under the mount");
    let item = list(volume, "secret.items")
        .iter()
        .find(|item| Path::new(text(item, "path")) == relative)
        .unwrap_or_else(|| panic!("the volume projects no {}", relative.display()));
    assert!(
        mount.get("subPath").is_none(),
        "a subPath mount is never updated"
    );
    manifests.secret_value(secret, text(item, "key"));
}

#[test]
fn the_secret_files_are_mounted_secrets() {
    let manifests = Manifests::load();
    let config = deployed_config(&manifests);
    for file in [config.auth_tokens_file, config.page_token_secrets_file] {
        assert_mounted_secret(&manifests, &file.expect("the secret file is set"));
    }
}

#[test]
fn services_select_the_pods_and_target_the_grpc_port() {
    let manifests = Manifests::load();
    let grpc = deployed_config(&manifests).grpc_addr.port();
    let pod_labels = manifests.pod_labels();
    let deployment_selector = string_map(&manifests.deployment, "spec.selector.matchLabels");
    for (label, value) in &deployment_selector {
        assert_eq!(
            pod_labels.get(label),
            Some(value),
            "the Deployment selects its own pods"
        );
    }
    for (file, service) in [
        ("service.yaml", &manifests.service),
        ("service-headless.yaml", &manifests.headless),
    ] {
        let selector = string_map(service, "spec.selector");
        assert!(!selector.is_empty(), "{file} has a selector");
        for (label, value) in &selector {
            assert_eq!(
                pod_labels.get(label),
                Some(value),
                "{file} selects the runview pods"
            );
        }
        let ports = list(service, "spec.ports");
        assert_eq!(ports.len(), 1, "{file} exposes gRPC only");
        let port = &ports[0];
        let target = &port["targetPort"];
        let target_port = match target.as_str() {
            Some(name) => manifests.container_port(name),
            None => u16::try_from(number(port, "targetPort")).expect("a port number"),
        };
        assert_eq!(target_port, grpc, "{file} targets the gRPC port");
        assert_eq!(text(port, "name"), "grpc", "{file}");
        assert_eq!(text(port, "appProtocol"), "kubernetes.io/h2c", "{file}");
    }
    assert_eq!(text(&manifests.service, "spec.type"), "ClusterIP");
    assert_eq!(text(&manifests.headless, "spec.clusterIP"), "None");
    // A headless Service translates no ports: clients dial the pod port they resolved.
    assert_eq!(
        number(&list(&manifests.headless, "spec.ports")[0], "port"),
        u64::from(grpc)
    );
}

#[test]
fn autoscaler_and_disruption_budget_follow_the_deployment() {
    let manifests = Manifests::load();
    assert_eq!(
        text(&manifests.hpa, "spec.scaleTargetRef.kind"),
        "Deployment"
    );
    assert_eq!(
        text(&manifests.hpa, "spec.scaleTargetRef.name"),
        text(&manifests.deployment, "metadata.name")
    );
    let replicas = number(&manifests.deployment, "spec.replicas");
    let min = number(&manifests.hpa, "spec.minReplicas");
    let max = number(&manifests.hpa, "spec.maxReplicas");
    assert!(min >= 2, "the autoscaler keeps at least two replicas");
    assert!(
        min <= replicas,
        "replicas {replicas} below the autoscaler's minimum {min}"
    );
    assert!(
        replicas <= max,
        "replicas {replicas} above the autoscaler's maximum {max}"
    );
    let pod_labels = manifests.pod_labels();
    for (label, value) in &string_map(&manifests.pdb, "spec.selector.matchLabels") {
        assert_eq!(
            pod_labels.get(label),
            Some(value),
            "the PodDisruptionBudget selects the pods"
        );
    }
}

#[test]
fn the_pod_runs_as_the_images_non_root_user_and_cannot_write_or_escalate() {
    let manifests = Manifests::load();
    let image = containerfile();
    let uid: u64 = image
        .user
        .split(':')
        .next()
        .and_then(|uid| uid.parse().ok())
        .unwrap_or_else(|| panic!("USER {} is a numeric uid", image.user));
    assert_ne!(uid, 0);
    let context = at(manifests.container(), "securityContext");
    assert_eq!(number(context, "runAsUser"), uid);
    assert_eq!(at(context, "runAsNonRoot").as_bool(), Some(true));
    assert_eq!(at(context, "readOnlyRootFilesystem").as_bool(), Some(true));
    assert_eq!(
        at(context, "allowPrivilegeEscalation").as_bool(),
        Some(false)
    );
    assert!(
        list(context, "capabilities.drop")
            .iter()
            .any(|capability| capability.as_str() == Some("ALL"))
    );
    assert_eq!(text(context, "seccompProfile.type"), "RuntimeDefault");
    // Service links would inject RUNVIEW_SERVICE_HOST and friends into runview's own namespace.
    assert_eq!(
        at(manifests.pod(), "enableServiceLinks").as_bool(),
        Some(false)
    );
}

#[test]
fn the_image_exposes_the_configured_ports_and_runs_the_server() {
    let image = containerfile();
    let defaults = defaults();
    let expected: BTreeSet<u16> = [
        defaults.grpc_addr,
        defaults.health_addr,
        defaults.metrics_addr,
    ]
    .iter()
    .map(|addr| addr.port())
    .collect();
    assert_eq!(image.exposed, expected);
    assert_eq!(
        image.env.get("RUNVIEW_LOG_FORMAT").map(String::as_str),
        Some("json")
    );
    assert!(
        image.entrypoint.contains("runview"),
        "ENTRYPOINT {}",
        image.entrypoint
    );
    let text = read("Containerfile");
    assert!(text.contains("cargo build --release --locked -p runview"));
    // `--locked` needs every workspace member's manifest, the tools' included.
    for members in ["crates", "tools"] {
        assert!(
            text.contains(&format!("COPY {members} {members}")),
            "the image copies {members}/"
        );
    }
}

#[test]
fn kustomization_lists_every_manifest_but_the_secret_example() {
    let kustomization = object("kustomization.yaml", "Kustomization");
    let listed: BTreeSet<&str> = list(&kustomization, "resources")
        .iter()
        .map(|resource| resource.as_str().expect("a file name"))
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(deploy_dir().join("kubernetes"))
        .expect("deploy/kubernetes")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| {
            name.ends_with(".yaml") && name != "kustomization.yaml" && name != "secret.example.yaml"
        })
        .collect();
    let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
    assert_eq!(listed, on_disk);
    assert!(
        !listed.contains("secret.example.yaml"),
        "placeholders must never overwrite real Secrets"
    );
    for file in on_disk.iter().copied().chain(["secret.example.yaml"]) {
        for document in documents(file) {
            let labels = string_map(&document, "metadata.labels");
            assert_eq!(
                labels.get("app.kubernetes.io/name").map(String::as_str),
                Some("runview"),
                "{file}"
            );
        }
    }
}

#[test]
fn the_variable_scan_skips_placeholders() {
    assert_eq!(
        env_names_in("RUNVIEW_<KEY>, RUNVIEW_* and `RUNVIEW_CACHE_TTL=5s` but not XRUNVIEW_NO"),
        BTreeSet::from(["RUNVIEW_CACHE_TTL".to_owned()])
    );
}
