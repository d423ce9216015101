//! # conform-simulator
//!
//! Will put the model behind the AWS wire protocol (`conform serve`): both services on one port,
//! routed by `X-Amz-Target`, SigV4 identity and the `/_conform/` control plane.
