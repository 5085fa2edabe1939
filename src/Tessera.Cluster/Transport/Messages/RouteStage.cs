namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// One stage of a request's route: its ranks (one for a plain stage; T for a tensor-parallel group, rank r running
/// shard r) and the tensors the stage reads. Rank 0 is where the stage's RUN arrives and whose outputs go on.
/// </summary>
public sealed record RouteStage(RouteRank[] Ranks, string[] Inputs)
{
    /// <summary>A stage run by one worker.</summary>
    public RouteStage(byte[] modelHash, string address, string[] inputs)
        : this([new RouteRank(modelHash, address)], inputs)
    {
    }

    public int Degree => Ranks.Length;
}
