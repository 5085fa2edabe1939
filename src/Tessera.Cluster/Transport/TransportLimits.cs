namespace Tessera.Cluster.Transport;

/// <summary>Sizes and timeouts a connection enforces. Defaults suit a LAN; tests shorten them.</summary>
public sealed record TransportLimits
{
    /// <summary>Largest payload of a frame that is not a tensor (control messages, model chunks).</summary>
    public int MaxControlFrameBytes { get; init; } = 2 << 20;

    /// <summary>Largest tensor payload accepted in one Tensor frame.</summary>
    public long MaxTensorBytes { get; init; } = 1L << 30;

    /// <summary>Time allowed for the handshake (HELLO to READY).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Once a frame has started, the rest of it must arrive within this time; also bounds a blocked write.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection with no frame at all for this long is closed (coordinators ping well within it).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Bytes of each direction's shared-memory ring on a connection between processes of one host (0: always TCP).
    /// <c>TESSERA_SHARED_MEMORY</c> sets it for every process: <c>off</c>, or a size in MiB (default 32).
    /// </summary>
    public long SharedMemoryBytes { get; init; } = SharedMemory.SharedMemorySize.FromEnvironment();

    public static TransportLimits Default { get; } = new();
}
