//! The protobuf codec the generated services decode with. It is prost's, except that a message
//! which does not decode is the caller's fault: INVALID_ARGUMENT with a fixed message, never the
//! decoder's description of our schema, where prost's codec answers INTERNAL with that text.
//! The generated clients share it, so an undecodable reply reads the same to them.

use std::marker::PhantomData;

use bytes::Buf;
use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::ProstCodec;

use super::status::undecodable;

/// Named in build.rs as the codec of every generated service and client.
#[derive(Debug, Clone)]
pub struct ProtoCodec<T, U> {
    _messages: PhantomData<(T, U)>,
}

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        Self {
            _messages: PhantomData,
        }
    }
}

impl<T, U> Codec for ProtoCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = <ProstCodec<T, U> as Codec>::Encoder;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::default().encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder {
            _message: PhantomData,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProtoDecoder<U> {
    _message: PhantomData<U>,
}

impl<U: Message + Default> Decoder for ProtoDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        decode_message(buf).map(Some)
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

fn decode_message<U: Message + Default>(buf: impl Buf) -> Result<U, Status> {
    U::decode(buf).map_err(|error| {
        tracing::debug!(%error, "undecodable message");
        undecodable()
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;
    use crate::proto as pb;

    #[test]
    fn an_undecodable_message_is_invalid_argument_without_decoder_text() {
        // A string field with invalid UTF-8, a length past the end, a wrong wire type for field 1.
        for bytes in [
            &[0x0a, 0x02, 0xff, 0xfe][..],
            &[0x0a, 0x09, 0x61],
            &[0x0d, 0x01],
        ] {
            let status = decode_message::<pb::GetRunRequest>(bytes).expect_err("refused");
            assert_eq!(status.code(), Code::InvalidArgument);
            let info = status.get_error_details().error_info().cloned();
            let info = info.expect("ErrorInfo");
            assert_eq!(
                (info.reason.as_str(), info.domain.as_str()),
                ("INVALID_ARGUMENT", "runview")
            );
            for internal in ["GetRunRequest", "wire type", "UTF-8", "utf-8", "buffer"] {
                assert!(!status.message().contains(internal), "{}", status.message());
            }
        }
    }

    #[test]
    fn a_valid_message_decodes_as_prost_would() {
        let request = pb::GetRunRequest {
            run_id: "run_1".into(),
            ..Default::default()
        };
        let decoded = decode_message::<pb::GetRunRequest>(&request.encode_to_vec()[..]);
        assert_eq!(decoded.expect("decodes"), request);
    }
}
