using Tessera.Partitioning.Planning;

namespace Tessera.Partitioning.Pipeline;

/// <summary>
/// The nodes that run one stage: one array per data-parallel replica, one node per tensor-parallel rank, and each
/// replica's share of the batch.
/// </summary>
internal sealed class Slot
{
    public Slot(IReadOnlyList<ClusterNode[]> replicas, IReadOnlyList<double> shares)
    {
        Replicas = replicas;
        Shares = shares;
        EffectiveSpeed = replicas.Sum(r => r.Min(n => n.Speed));
    }

    public IReadOnlyList<ClusterNode[]> Replicas { get; }

    public IReadOnlyList<double> Shares { get; }

    /// <summary>The rate the slot as a whole works at: replicas add up, ranks go at their slowest.</summary>
    public double EffectiveSpeed { get; }

    public double MaxShare => Shares.Max();

    /// <summary>The host every node of the slot runs on; empty when they are not all on one named host.</summary>
    public string Host
    {
        get
        {
            string host = Replicas[0][0].Host ?? string.Empty;
            return Replicas.All(r => r.All(n => n.Host == host)) ? host : string.Empty;
        }
    }

    /// <summary>Whether the tensors from <paramref name="previous"/> to this slot stay on one host (through shared memory).</summary>
    public bool SharesHostWith(Slot? previous) => previous is not null && Host.Length > 0 && previous.Host == Host;

    /// <summary>The signature of the slot's nodes, so permutations of identical slots are tried once.</summary>
    public string Signature => string.Join("|", Replicas.Select(r => string.Join(",", r.Select(n => $"{n.Speed}/{n.MemoryBytes}"))));

    /// <summary>Largest need over budget among the slot's nodes (above 1 means it does not fit), and that node.</summary>
    public (double Ratio, ClusterNode Node, long Need) WorstFit(long parameters, long activations)
    {
        (double Ratio, ClusterNode Node, long Need) worst = (double.MinValue, Replicas[0][0], 0);
        for (int r = 0; r < Replicas.Count; r++)
        {
            long need = parameters + (long)Math.Ceiling(activations * Shares[r]);
            foreach (var node in Replicas[r])
            {
                double ratio = need / (double)node.MemoryBytes;
                if (ratio > worst.Ratio) worst = (ratio, node, need);
            }
        }

        return worst;
    }
}
