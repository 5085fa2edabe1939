using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Collective;

/// <summary>
/// This worker's part in one group run: its rank, every rank's worker address (index = rank), and how the request's
/// float32 partial sums travel.
/// </summary>
internal sealed record GroupRun(GroupRunId Id, int Rank, string[] Addresses, WireDataType Wire)
{
    public int Size => Addresses.Length;
}
