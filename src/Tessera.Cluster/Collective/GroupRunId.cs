namespace Tessera.Cluster.Collective;

/// <summary>
/// Names one run of a tensor-parallel group: request ids are unique per coordinator (the reply-to client), and a
/// request runs each stage's group once, so blocks of concurrent requests and stages never mix.
/// </summary>
internal readonly record struct GroupRunId(Guid ReplyTo, ulong RequestId, int Stage);
