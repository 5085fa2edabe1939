namespace Tessera.Cluster.Transport.Messages;

/// <summary>MODEL_STATUS payload (one byte). Numbers are part of the wire format.</summary>
public enum ModelState : byte
{
    /// <summary>The worker does not have the model (or is ready to receive it, as the answer to MODEL_BEGIN).</summary>
    Absent = 0,

    /// <summary>The model is in the worker's cache directory, checked by hash.</summary>
    Cached = 1,

    /// <summary>The model is loaded and ready to run.</summary>
    Loaded = 2,
}
