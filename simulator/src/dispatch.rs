//! How the simulator hands a request to the model: the body decoded outside the world's lock
//! (`World::decode`), then answered under it.

use conform_model::{Caller, Decoded, Reply, Service, World};

/// The function that answers one AWS request under the world's lock: the operation its
/// `X-Amz-Target` names and the request [`World::decode`] made of its body outside the lock.
/// Production uses `World::handle_decoded`; tests swap in one that panics to show a panic
/// becomes a 500 and the server keeps serving.
pub type Dispatch = fn(&mut World, &Caller, &str, Decoded) -> Reply;

pub(crate) fn model_dispatch(
    world: &mut World,
    caller: &Caller,
    _operation: &str,
    decoded: Decoded,
) -> Reply {
    world.handle_decoded(caller, decoded)
}

/// Decodes and answers one request in one go, where no lock is held around it (replays of the
/// journal, races); a panic in either half is `Err`.
pub(crate) fn decode_and_dispatch(
    dispatch: Dispatch,
    world: &mut World,
    caller: &Caller,
    service: Service,
    operation: &str,
    body: &[u8],
) -> std::thread::Result<Reply> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(world, caller, operation, World::decode(service, operation, body))
    }))
}
