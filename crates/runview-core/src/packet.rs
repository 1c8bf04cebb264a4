//! Packets (payload, output, metadata): a body and its content type.

/// Content type of a packet whose body lives in object storage; the column then holds a path.
pub const OBJECT_STORE_TYPE: &str = "application/store";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub data: String,
    pub data_type: String,
}

impl Packet {
    /// Turns the stored path of an offloaded packet into its object key
    /// (`packets/<project ref>/<environment slug>/<path>`); inline packets are unchanged.
    pub fn with_object_key(self, project_ref: &str, environment_slug: &str) -> Self {
        if self.data_type != OBJECT_STORE_TYPE {
            return self;
        }
        Self {
            data: format!("packets/{project_ref}/{environment_slug}/{}", self.data),
            data_type: self.data_type,
        }
    }
}

/// The realtime-stream bookkeeping keys lists hide, exactly these names, at every depth.
const STREAM_KEYS: [&str; 3] = ["$$streams", "$$streamsVersion", "$$streamsBaseUrl"];

impl Packet {
    /// Lists hide the realtime-stream bookkeeping keys of JSON metadata wherever they appear,
    /// in nested objects and objects inside arrays too. Other packets, and JSON that does not
    /// parse, are left as they are; key order is kept.
    pub fn without_stream_keys(self) -> Self {
        // Keys may be spelled with escapes, so only text that mentions neither is skipped.
        let may_hold_a_stream_key = self.data.contains("$$streams") || self.data.contains("\\u");
        if self.data_type != "application/json" || !may_hold_a_stream_key {
            return self;
        }
        match serde_json::from_str::<serde_json::Value>(&self.data) {
            Ok(mut value) => {
                remove_stream_keys(&mut value);
                Self {
                    data: value.to_string(),
                    data_type: self.data_type,
                }
            }
            Err(_) => self,
        }
    }
}

fn remove_stream_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            object.retain(|key, _| !STREAM_KEYS.contains(&key.as_str()));
            object.values_mut().for_each(remove_stream_keys);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(remove_stream_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offloaded_packets_become_object_keys() {
        let packet = Packet {
            data: "run_1/payload.json".into(),
            data_type: OBJECT_STORE_TYPE.into(),
        };
        assert_eq!(
            packet.with_object_key("proj_abc", "prod").data,
            "packets/proj_abc/prod/run_1/payload.json"
        );
    }

    #[test]
    fn stream_keys_are_removed_from_json_metadata_only() {
        let metadata = Packet {
            data: r#"{"$$streams":["a"],"$$streamsVersion":"v1","progress":0.5}"#.into(),
            data_type: "application/json".into(),
        };
        assert_eq!(metadata.without_stream_keys().data, r#"{"progress":0.5}"#);
        let escaped = Packet {
            data: r#"{"\u0024\u0024streams":["a"],"b":1}"#.into(),
            data_type: "application/json".into(),
        };
        assert_eq!(escaped.without_stream_keys().data, r#"{"b":1}"#);
        let opaque = Packet {
            data: "$$streams".into(),
            data_type: "text/plain".into(),
        };
        assert_eq!(opaque.clone().without_stream_keys(), opaque);
    }

    #[test]
    fn stream_keys_are_removed_at_every_depth_and_only_by_their_exact_names() {
        let metadata = Packet {
            data: r#"{"z":1,"$$streams":["x"],"n":{"$$streamsVersion":"v1","k":2},"arr":[{"$$streamsBaseUrl":"u","y":3}],"$$streamsX":4,"a":5}"#.into(),
            data_type: "application/json".into(),
        };
        assert_eq!(
            metadata.without_stream_keys().data,
            r#"{"z":1,"n":{"k":2},"arr":[{"y":3}],"$$streamsX":4,"a":5}"#
        );
    }

    #[test]
    fn inline_packets_are_left_as_they_are() {
        let packet = Packet {
            data: "{\"a\":1}".into(),
            data_type: "application/json".into(),
        };
        assert_eq!(packet.clone().with_object_key("proj_abc", "prod"), packet);
    }
}
