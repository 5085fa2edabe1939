namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// READY and PONG payload, a worker's state: <c>string name | i32 threads | i64 memory budget (0 = none) |
/// i64 memory used | u32 requests in flight | u32 models loaded | u64 matrix-product flop/s measured at start (0 = not
/// measured)</c>.
/// </summary>
public sealed record WorkerInfo(string Name, int Threads, long MemoryBudget, long MemoryUsed, uint InFlight, uint ModelsLoaded, ulong MatrixFlopsPerSecond = 0)
{
    public WireWriter Write() => new WireWriter().String(Name).I32(Threads).I64(MemoryBudget).I64(MemoryUsed).U32(InFlight).U32(ModelsLoaded).U64(MatrixFlopsPerSecond);

    public static WorkerInfo Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var info = new WorkerInfo(r.String(), r.I32(), r.I64(), r.I64(), r.U32(), r.U32(), r.U64());
        r.End();
        return info;
    }
}
