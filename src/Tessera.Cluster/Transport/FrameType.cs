namespace Tessera.Cluster.Transport;

/// <summary>The type byte of a frame header. Numbers are part of the wire format (docs/protocol.md): only append.</summary>
public enum FrameType : byte
{
    /// <summary>Client → server: magic, protocol version, role, client id, client nonce.</summary>
    Hello = 1,

    /// <summary>Server → client: magic, protocol version, server nonce, server proof.</summary>
    Challenge = 2,

    /// <summary>Client → server: client proof.</summary>
    Auth = 3,

    /// <summary>Server → client: authenticated; describes the worker.</summary>
    Ready = 4,

    /// <summary>Either way: an error code and message; request id 0 means the connection is being closed.</summary>
    Error = 5,

    /// <summary>Client → server after READY: a shared-memory segment for the connection's tensors (same host only).</summary>
    SharedMemoryOffer = 6,

    /// <summary>Server → client: whether the offered segment is used, and why not.</summary>
    SharedMemoryAnswer = 7,

    /// <summary>Client → server, empty: the client's last frame over TCP after an accepted offer; its later frames come through the segment.</summary>
    SharedMemorySwitch = 8,

    Ping = 10,
    Pong = 11,

    /// <summary>Coordinator → worker: "do you have model X?" (32-byte SHA-256).</summary>
    ModelQuery = 20,

    /// <summary>Worker → coordinator: absent / cached / loaded.</summary>
    ModelStatus = 21,

    /// <summary>Coordinator → worker: an upload starts (hash, total length).</summary>
    ModelBegin = 22,

    /// <summary>Coordinator → worker: the next bytes of the upload (at most 1 MiB).</summary>
    ModelChunk = 23,

    /// <summary>Coordinator → worker: the upload is complete; the worker checks the hash and answers ModelStatus.</summary>
    ModelEnd = 24,

    /// <summary>Coordinator → worker: load a cached model into memory.</summary>
    ModelLoad = 25,

    /// <summary>Worker → coordinator: the model is loaded; its input and output names.</summary>
    ModelLoaded = 26,

    /// <summary>Coordinator → worker: what have runs of model X cost at each batch size? (32-byte SHA-256).</summary>
    ModelCostQuery = 27,

    /// <summary>Worker → coordinator: the model's measured CPU time per run at each batch size it ran at.</summary>
    ModelCosts = 28,

    /// <summary>Run a request along a route of stages; followed by its tensor frames.</summary>
    Run = 30,

    /// <summary>One named tensor of the Run or Result with the same request id.</summary>
    Tensor = 31,

    /// <summary>Last stage → coordinator: the outputs; followed by its tensor frames.</summary>
    Result = 32,

    /// <summary>Worker → coordinator: join a running cluster at the given address.</summary>
    Join = 40,

    /// <summary>Coordinator → worker: the join was accepted.</summary>
    Joined = 41,

    /// <summary>Worker ↔ worker: one rank's block of a collective (all-gather) of a tensor-parallel group run, or an abort of that run.</summary>
    Collective = 50,
}
