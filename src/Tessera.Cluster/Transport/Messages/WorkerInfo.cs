namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// READY and PONG payload, a worker's state: <c>string name | i32 threads | i64 memory budget (0 = none) |
/// i64 memory used | u32 requests in flight | u32 models loaded | u64 matrix-product flop/s measured at start (0 = not
/// measured) | u16 processors the worker may use | 16-byte host id (the kernel's boot id; zero = unknown) | u64 tensor
/// bytes the worker's process has sent (<see cref="WireCounters"/>)</c>. Workers with one host id share that host's
/// processors.
/// </summary>
public sealed record WorkerInfo(string Name, int Threads, long MemoryBudget, long MemoryUsed, uint InFlight, uint ModelsLoaded, ulong MatrixFlopsPerSecond = 0, int Processors = 0, Guid HostId = default)
{
    /// <summary>Bytes of tensor data the worker has sent to any peer since it started (as sent: narrowed ones count narrowed).</summary>
    public long TensorBytesSent { get; init; }

    public WireWriter Write() => new WireWriter().String(Name).I32(Threads).I64(MemoryBudget).I64(MemoryUsed).U32(InFlight).U32(ModelsLoaded).U64(MatrixFlopsPerSecond)
        .U16((ushort)Math.Clamp(Processors, 0, ushort.MaxValue)).Bytes(HostId.ToByteArray()).U64((ulong)TensorBytesSent);

    public static WorkerInfo Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var info = new WorkerInfo(r.String(), r.I32(), r.I64(), r.I64(), r.U32(), r.U32(), r.U64(), r.U16(), new Guid(r.Bytes(16))) { TensorBytesSent = (long)r.U64() };
        r.End();
        return info;
    }
}
