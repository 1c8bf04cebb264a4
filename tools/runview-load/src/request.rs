//! Turns ghz call data (one JSON object, or an array of them used round-robin) and metadata into
//! the body and headers of each call, through the proto3 JSON mapping of the method's request
//! type (so `"view": "RUN_VIEW_FULL"` and `"period": "3600s"` work as in any gRPC JSON tool).
//!
//! Everything that does not depend on the call is encoded once, up front; templated parts are
//! rendered per call. Both are checked before the run starts, so a typo in a field name fails
//! the run at once rather than producing thousands of identical errors.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde_json::Value;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};

use crate::contract::Method;
use crate::template::{CallData, MethodNames, Template};

/// The requests of a run.
pub struct Requests {
    input: MessageDescriptor,
    names: MethodNames,
    messages: Vec<Body>,
    metadata: MetadataMap,
    templated_metadata: Vec<(AsciiMetadataKey, Template)>,
}

/// What one call sends.
pub struct Call {
    pub body: Bytes,
    pub metadata: MetadataMap,
}

enum Body {
    Encoded(Bytes),
    Templated(JsonTemplate),
}

impl Requests {
    /// `data` as ghz takes it: an object, or a non-empty array of objects; absent means `{}`.
    pub fn new(
        method: &Method,
        data: Option<&Value>,
        metadata: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let input = method.descriptor.input();
        let empty = Value::Object(Default::default());
        let items: Vec<&Value> = match data.unwrap_or(&empty) {
            Value::Array(items) if items.is_empty() => bail!("data must not be an empty array"),
            Value::Array(items) => items.iter().collect(),
            object @ Value::Object(_) => vec![object],
            _ => bail!("data must be a JSON object or an array of objects"),
        };
        let mut messages = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            if !item.is_object() {
                bail!("data[{index}] is not a JSON object");
            }
            let body = match JsonTemplate::new(item)? {
                JsonTemplate::Literal(value) => {
                    Body::Encoded(encode(&input, &value).with_context(|| format!("data[{index}]"))?)
                }
                templated => Body::Templated(templated),
            };
            messages.push(body);
        }

        let mut static_metadata = MetadataMap::new();
        let mut templated_metadata = Vec::new();
        for (key, value) in metadata {
            let key: AsciiMetadataKey = key.to_ascii_lowercase().parse().with_context(|| {
                format!("metadata key {key:?} is not a valid ASCII header name")
            })?;
            let template = Template::parse(value)?;
            if template.has_actions() {
                templated_metadata.push((key, template));
            } else {
                static_metadata.insert(key.clone(), ascii_value(&key, value.clone())?);
            }
        }

        let requests = Self {
            input,
            names: method.names.clone(),
            messages,
            metadata: static_metadata,
            templated_metadata,
        };
        // Render every templated message once so that mistakes show before the run.
        for request_number in 0..requests.messages.len() as u64 {
            requests.call("check", request_number)?;
        }
        Ok(requests)
    }

    /// The request `request_number` (0-based) of the run, sent by `worker_id`.
    pub fn call(&self, worker_id: &str, request_number: u64) -> anyhow::Result<Call> {
        let body = &self.messages[(request_number % self.messages.len() as u64) as usize];
        if self.templated_metadata.is_empty()
            && let Body::Encoded(bytes) = body
        {
            return Ok(Call {
                body: bytes.clone(),
                metadata: self.metadata.clone(),
            });
        }
        let data = CallData::now(&self.names, worker_id, request_number);
        let body = match body {
            Body::Encoded(bytes) => bytes.clone(),
            Body::Templated(template) => {
                let value = template.render(&data);
                encode(&self.input, &value).with_context(|| format!("rendered data {value}"))?
            }
        };
        let mut metadata = self.metadata.clone();
        for (key, template) in &self.templated_metadata {
            metadata.insert(key.clone(), ascii_value(key, template.render(&data))?);
        }
        Ok(Call { body, metadata })
    }
}

/// Encodes a JSON request with the proto3 JSON mapping; unknown fields are errors.
pub fn encode(input: &MessageDescriptor, value: &Value) -> anyhow::Result<Bytes> {
    let message = DynamicMessage::deserialize(input.clone(), value)
        .with_context(|| format!("does not encode as {}", input.full_name()))?;
    Ok(Bytes::from(message.encode_to_vec()))
}

fn ascii_value(key: &AsciiMetadataKey, value: String) -> anyhow::Result<AsciiMetadataValue> {
    AsciiMetadataValue::try_from(value)
        .with_context(|| format!("metadata {key} must be printable ASCII"))
}

/// A JSON value whose strings may hold template actions. Subtrees without any stay literal.
enum JsonTemplate {
    Literal(Value),
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    fn new(value: &Value) -> anyhow::Result<Self> {
        let node = match value {
            Value::String(text) => {
                let template = Template::parse(text)?;
                if template.has_actions() {
                    Self::Text(template)
                } else {
                    Self::Literal(value.clone())
                }
            }
            Value::Array(items) => {
                let nodes = items
                    .iter()
                    .map(Self::new)
                    .collect::<anyhow::Result<Vec<_>>>()?;
                if nodes.iter().all(|n| matches!(n, Self::Literal(_))) {
                    Self::Literal(value.clone())
                } else {
                    Self::Array(nodes)
                }
            }
            Value::Object(fields) => {
                let nodes = fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Self::new(v)?)))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                if nodes.iter().all(|(_, n)| matches!(n, Self::Literal(_))) {
                    Self::Literal(value.clone())
                } else {
                    Self::Object(nodes)
                }
            }
            other => Self::Literal(other.clone()),
        };
        Ok(node)
    }

    fn render(&self, data: &CallData<'_>) -> Value {
        match self {
            Self::Literal(value) => value.clone(),
            Self::Text(template) => Value::String(template.render(data)),
            Self::Array(items) => Value::Array(items.iter().map(|i| i.render(data)).collect()),
            Self::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(data)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use prost_reflect::Value as ProtoValue;
    use serde_json::json;

    use super::*;
    use crate::contract::descriptor_pool;

    fn get_run() -> anyhow::Result<Method> {
        Method::resolve(&descriptor_pool()?, "runview.v1.ReadService/GetRun")
    }

    /// The message a call sends, and one of its fields.
    fn sent_field(method: &Method, call: &Call, field: &str) -> anyhow::Result<ProtoValue> {
        let message = DynamicMessage::decode(method.descriptor.input(), call.body.clone())?;
        Ok(message
            .get_field_by_name(field)
            .context(field.to_owned())?
            .into_owned())
    }

    #[test]
    fn arrays_are_sent_round_robin_and_enums_take_their_names() -> anyhow::Result<()> {
        let method = get_run()?;
        let data = json!([
            {"environment_id": "env_1", "run_id": "run_a", "view": "RUN_VIEW_FULL"},
            {"environment_id": "env_1", "run_id": "run_b"}
        ]);
        let requests = Requests::new(&method, Some(&data), &BTreeMap::new())?;
        let mut ids = Vec::new();
        for n in 0..4 {
            ids.push(sent_field(&method, &requests.call("g0c0", n)?, "run_id")?);
        }
        let expected = ["run_a", "run_b", "run_a", "run_b"].map(|id| ProtoValue::String(id.into()));
        assert_eq!(ids, expected);
        let view = sent_field(&method, &requests.call("g0c0", 0)?, "view")?;
        assert_eq!(view, ProtoValue::EnumNumber(2));
        Ok(())
    }

    #[test]
    fn templates_render_per_call_in_data_and_metadata() -> anyhow::Result<()> {
        let method = get_run()?;
        let data = json!({"environment_id": "env_1", "run_id": "run_{{.RequestNumber}}"});
        let metadata = BTreeMap::from([
            ("Authorization".to_owned(), "Bearer secret".to_owned()),
            (
                "x-request-id".to_owned(),
                "{{.WorkerID}}-{{.RequestNumber}}".to_owned(),
            ),
        ]);
        let requests = Requests::new(&method, Some(&data), &metadata)?;
        let call = requests.call("g2c0", 17)?;
        assert_eq!(
            sent_field(&method, &call, "run_id")?,
            ProtoValue::String("run_17".into())
        );
        assert_eq!(
            call.metadata.get("x-request-id").context("request id")?,
            "g2c0-17"
        );
        assert_eq!(
            call.metadata.get("authorization").context("token")?,
            "Bearer secret"
        );
        Ok(())
    }

    #[test]
    fn mistakes_in_data_fail_before_the_run() -> anyhow::Result<()> {
        let method = get_run()?;
        let none = BTreeMap::new();
        for bad in [
            json!({"environment": "env_1"}),
            json!({"view": "RUN_VIEW_HUGE"}),
            json!([]),
            json!(["run_a"]),
            json!({"run_id": "{{.RequestNumbr}}"}),
        ] {
            assert!(
                Requests::new(&method, Some(&bad), &none).is_err(),
                "{bad} should be refused"
            );
        }
        Ok(())
    }
}
