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

impl Packet {
    /// Lists hide the realtime-stream bookkeeping keys (`$$streams…`) of JSON metadata; other
    /// packets, and JSON that does not parse as an object, are left as they are.
    pub fn without_stream_keys(self) -> Self {
        if self.data_type != "application/json" || !self.data.contains("$$streams") {
            return self;
        }
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&self.data) {
            Ok(mut object) => {
                object.retain(|key, _| !key.starts_with("$$streams"));
                Self {
                    data: serde_json::Value::Object(object).to_string(),
                    data_type: self.data_type,
                }
            }
            Err(_) => self,
        }
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
        let opaque = Packet {
            data: "$$streams".into(),
            data_type: "text/plain".into(),
        };
        assert_eq!(opaque.clone().without_stream_keys(), opaque);
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
