using Tessera.Partitioning.Cost;

namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// MODEL_COSTS payload, a loaded model's measured runs: <c>32-byte hash | u16 n | n × (u32 rows | u32 runs |
/// u64 nanoseconds of CPU per run)</c>, rows ascending; none for a model not loaded.
/// </summary>
public sealed record ModelCostsMessage(byte[] Hash, BatchCost[] Costs)
{
    public WireWriter Write()
    {
        var w = new WireWriter().Bytes(Hash).U16(checked((ushort)Costs.Length));
        foreach (var c in Costs)
        {
            w.U32((uint)c.Rows).U32((uint)c.Runs).U64((ulong)Math.Round(c.SecondsPerRun * 1e9));
        }

        return w;
    }

    public static ModelCostsMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        byte[] hash = r.Bytes(Protocol.HashBytes).ToArray();
        var costs = new BatchCost[r.Count(minBytesEach: 16)];
        for (int i = 0; i < costs.Length; i++)
        {
            uint rows = r.U32(), runs = r.U32();
            ulong nanoseconds = r.U64();
            if (rows == 0 || rows > int.MaxValue || runs > int.MaxValue || (i > 0 && rows <= costs[i - 1].Rows))
            {
                throw new ClusterException(ClusterErrorCode.Malformed, "model costs must have rows ascending, each at least 1");
            }

            costs[i] = new BatchCost((int)rows, (int)runs, nanoseconds * 1e-9);
        }

        r.End();
        return new ModelCostsMessage(hash, costs);
    }
}
