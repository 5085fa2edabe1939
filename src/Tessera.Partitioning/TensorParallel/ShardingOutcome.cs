namespace Tessera.Partitioning.TensorParallel;

/// <summary>The result of one <see cref="ShardingPass"/>: a block, a reason it fails, or another column layer it needs.</summary>
internal readonly record struct ShardingOutcome(Region? Region, string? Failure, LinearLayer? NeededColumn);
