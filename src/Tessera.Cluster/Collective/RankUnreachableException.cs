namespace Tessera.Cluster.Collective;

/// <summary>
/// A collective failed because another rank could not be reached: its link closed, a send to it failed, or nothing
/// came from it within the timeout. Unlike a rank that reported its own failure, this is a route failure, so the
/// coordinator may fail the request over to another replica.
/// </summary>
internal sealed class RankUnreachableException(string message) : Kernels.Collective.CollectiveException(message);
