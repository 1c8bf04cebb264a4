//! The services this tool can call: the runview contract compiled by build.rs, plus the standard
//! `grpc.health.v1.Health` that runview also serves (so probes can be measured too).

use anyhow::{Context, bail};
use prost_reflect::{DescriptorPool, MethodDescriptor};
use tonic::codegen::http::uri::PathAndQuery;

use crate::template::MethodNames;

const RUNVIEW_DESCRIPTORS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/runview_descriptor.bin"));

/// Every service this tool knows.
pub fn descriptor_pool() -> anyhow::Result<DescriptorPool> {
    let mut pool =
        DescriptorPool::decode(RUNVIEW_DESCRIPTORS).context("decoding the runview descriptors")?;
    pool.decode_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .context("decoding the gRPC health descriptors")?;
    Ok(pool)
}

/// A unary method, resolved from a ghz `call`.
#[derive(Clone, Debug)]
pub struct Method {
    pub descriptor: MethodDescriptor,
    pub path: PathAndQuery,
    pub names: MethodNames,
}

impl Method {
    /// Accepts both forms ghz does: `package.Service/Method` and `package.Service.Method`.
    pub fn resolve(pool: &DescriptorPool, call: &str) -> anyhow::Result<Self> {
        let call = call.trim().trim_start_matches('/');
        let (service_name, method_name) = call
            .rsplit_once('/')
            .or_else(|| call.rsplit_once('.'))
            .with_context(|| {
            format!(
                "call {call:?} is not of the form package.Service/Method or package.Service.Method"
            )
        })?;
        let Some(service) = pool.get_service_by_name(service_name) else {
            let known: Vec<_> = pool.services().map(|s| s.full_name().to_owned()).collect();
            bail!(
                "unknown service {service_name:?} in call {call:?}; known services: {}",
                known.join(", ")
            );
        };
        let Some(descriptor) = service.methods().find(|m| m.name() == method_name) else {
            let known: Vec<_> = service.methods().map(|m| m.name().to_owned()).collect();
            bail!(
                "unknown method {method_name:?} of {service_name}; its methods: {}",
                known.join(", ")
            );
        };
        if descriptor.is_client_streaming() || descriptor.is_server_streaming() {
            bail!("{call} is a streaming method; only unary methods can be run");
        }
        let path = format!("/{}/{}", service.full_name(), descriptor.name())
            .parse()
            .with_context(|| format!("{call} does not make a valid request path"))?;
        let names = MethodNames {
            fully_qualified: descriptor.full_name().to_owned(),
            method: descriptor.name().to_owned(),
            service: service.name().to_owned(),
            input: descriptor.input().name().to_owned(),
            output: descriptor.output().name().to_owned(),
        };
        Ok(Self {
            descriptor,
            path,
            names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_both_call_spellings_to_the_same_method() -> anyhow::Result<()> {
        let pool = descriptor_pool()?;
        for call in [
            "runview.v1.ReadService.GetRun",
            "runview.v1.ReadService/GetRun",
        ] {
            let method = Method::resolve(&pool, call)?;
            assert_eq!(method.path.as_str(), "/runview.v1.ReadService/GetRun");
            assert_eq!(
                method.descriptor.input().full_name(),
                "runview.v1.GetRunRequest"
            );
            assert_eq!(method.names.service, "ReadService");
        }
        let health = Method::resolve(&pool, "grpc.health.v1.Health/Check")?;
        assert_eq!(health.path.as_str(), "/grpc.health.v1.Health/Check");
        Ok(())
    }

    #[test]
    fn unknown_calls_name_what_exists() -> anyhow::Result<()> {
        let pool = descriptor_pool()?;
        let refused = |call: &str| {
            Method::resolve(&pool, call)
                .err()
                .context("should be refused")
        };
        let err = refused("runview.v1.ReadService/GetRunz")?;
        assert!(err.to_string().contains("GetRun, ListRuns"), "{err}");
        let err = refused("runview.v1.Nope/GetRun")?;
        assert!(err.to_string().contains("runview.v1.ReadService"), "{err}");
        refused("GetRun")?;
        refused("grpc.health.v1.Health/Watch")?;
        Ok(())
    }
}
