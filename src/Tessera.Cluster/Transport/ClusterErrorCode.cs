namespace Tessera.Cluster.Transport;

/// <summary>Error classes carried by Error frames. Numbers are part of the wire format: only append.</summary>
public enum ClusterErrorCode : ushort
{
    Internal = 1,

    /// <summary>The bytes are not a Tessera frame (bad magic, unknown type, truncated or inconsistent payload).</summary>
    Malformed = 2,

    /// <summary>The peer speaks another protocol version.</summary>
    VersionMismatch = 3,

    /// <summary>The HMAC proof over the shared token did not match.</summary>
    Unauthorized = 4,

    /// <summary>A frame longer than the receiver's limit.</summary>
    FrameTooLarge = 5,

    /// <summary>No frame or no progress within the read or idle timeout.</summary>
    Timeout = 6,

    /// <summary>A model hash the worker neither has loaded nor cached.</summary>
    UnknownModel = 7,

    /// <summary>Uploaded bytes whose SHA-256 differs from the announced hash.</summary>
    HashMismatch = 8,

    /// <summary>Loading the model would exceed the worker's memory budget.</summary>
    MemoryBudget = 9,

    /// <summary>The model failed on the given inputs.</summary>
    InferenceFailed = 10,

    /// <summary>The next stage's worker could not be reached.</summary>
    RouteFailed = 11,

    /// <summary>A worker stopped answering or closed its connection.</summary>
    WorkerDown = 12,

    /// <summary>The request itself is invalid (unknown names, bad route).</summary>
    BadRequest = 13,
}
