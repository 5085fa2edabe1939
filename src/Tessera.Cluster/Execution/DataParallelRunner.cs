using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Data;
using Tessera.Tensors;

namespace Tessera.Cluster.Execution;

/// <summary>
/// Data parallelism across workers: the batch (axis 0 of every input) is split into contiguous shards, one per
/// replica, each run on its own replica (failing over to the others), and the outputs are joined along axis 0 (each
/// shard's reply read straight into its rows of the whole, <see cref="ShardedOutputs"/>).
/// Every row is computed by the same model, so the result is bit-identical to a single-process run.
/// </summary>
public static class DataParallelRunner
{
    /// <param name="into">
    /// Tensors (by output name) to receive the outputs, as <c>InferenceSession.Run(inputs, outputs)</c> takes them, so
    /// a caller that runs batch after batch allocates nothing for them; the result then holds these very tensors.
    /// </param>
    public static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(
        ClusterCoordinator coordinator, IReadOnlyList<Route> replicas, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs, CancellationToken cancellation = default, IReadOnlyDictionary<string, Tensor>? into = null)
    {
        int batch = inputs.Values.First().Shape is [var b, ..] ? b : 0;
        if (inputs.Values.Any(t => t.Rank == 0 || t.Shape[0] != batch))
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, "data parallel runs need every input to have the same batch size on axis 0");
        }

        int shards = Math.Max(1, Math.Min(replicas.Count, batch));
        int[] counts = BatchSplit.Counts(batch, Enumerable.Repeat(1.0, shards).ToList());
        int[] starts = new int[shards];
        for (int s = 1; s < shards; s++)
        {
            starts[s] = starts[s - 1] + counts[s - 1];
        }

        var received = new ShardedOutputs(starts, counts, into);
        var tasks = new Task<IReadOnlyDictionary<string, Tensor>>[shards];
        for (int s = 0; s < shards; s++)
        {
            int start = starts[s], rows = counts[s];
            var slice = inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, 0, start, rows), StringComparer.Ordinal);
            // Shard s prefers replica s; the others stay available for failover.
            var order = replicas.Skip(s % replicas.Count).Concat(replicas.Take(s % replicas.Count)).ToArray();
            tasks[s] = RunPreferringAsync(coordinator, order, slice, outputs, received.For(s), cancellation);
        }

        var parts = await Task.WhenAll(tasks).ConfigureAwait(false);
        return outputs.ToDictionary(name => name, name => ShardedOutputs.Deliver(name, received.Join(name, parts.Select(p => p[name]).ToArray()), into), StringComparer.Ordinal);
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunPreferringAsync(ClusterCoordinator coordinator, Route[] order, Dictionary<string, Tensor> inputs, IReadOnlyList<string> outputs, OutputPlacement place, CancellationToken cancellation)
    {
        // Try the preferred replica alone first so that shards spread out; on its failure, any replica will do.
        try
        {
            return await coordinator.RunAsync([order[0]], inputs, outputs, cancellation, place).ConfigureAwait(false);
        }
        catch (ClusterException e) when (order.Length > 1 && e.Code is ClusterErrorCode.WorkerDown or ClusterErrorCode.RouteFailed)
        {
            return await coordinator.RunAsync(order[1..], inputs, outputs, cancellation, place).ConfigureAwait(false);
        }
    }
}
