namespace Tessera.Cluster.Collective;

/// <summary>This worker's part in one group run: its rank and every rank's worker address (index = rank).</summary>
internal sealed record GroupRun(GroupRunId Id, int Rank, string[] Addresses)
{
    public int Size => Addresses.Length;
}
