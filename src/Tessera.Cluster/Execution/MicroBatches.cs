using Tessera.Cluster.Transport;
using Tessera.Partitioning.Data;
using Tessera.Tensors;

namespace Tessera.Cluster.Execution;

/// <summary>
/// A request on a pipeline route cut into micro-batches along its batch axis and sent at once, so that every stage
/// works while the next micro-batch travels, then joined back in order. The one cutting of both a plan replica's share
/// (<see cref="PlanClusterRunner"/>) and a served batch (the serving cluster backend).
/// </summary>
public static class MicroBatches
{
    /// <summary>Micro-batches per pipeline stage by default: two keep every stage busy while the next one travels.</summary>
    public const int PerStage = 2;

    /// <summary>
    /// Runs <paramref name="inputs"/>, which hold <paramref name="rows"/> rows along each input's
    /// <paramref name="inputAxis"/>, as min(rows, <paramref name="perStage"/> × <paramref name="stages"/>) concurrent
    /// calls of <paramref name="run"/>, and joins each of <paramref name="outputs"/> along its <paramref name="outputAxis"/>.
    /// With one stage, or fewer than two pieces (rows 0 means "no batch axis"), the inputs go to <paramref name="run"/> whole.
    /// </summary>
    /// <param name="run">Runs one piece; the placement it is given (null when there is none) says where to read that piece's outputs.</param>
    /// <param name="into">
    /// Tensors (by output name) to read the pieces into in place; an output that could not be (see
    /// <see cref="ShardedOutputs.Deliver"/>) is returned as it arrived.
    /// </param>
    public static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(
        IReadOnlyDictionary<string, Tensor> inputs, int rows, int stages, int perStage,
        Func<string, int> inputAxis, IReadOnlyList<string> outputs, Func<string, int> outputAxis,
        Func<IReadOnlyDictionary<string, Tensor>, OutputPlacement?, Task<IReadOnlyDictionary<string, Tensor>>> run,
        IReadOnlyDictionary<string, Tensor>? into = null)
    {
        int pieces = stages < 2 ? 0 : Math.Min(rows, perStage * stages);
        // Pieces along axis 0 of every output are read straight into their rows of the whole (no join copy, no
        // allocation per piece); outputs batched on another axis are concatenated.
        bool placed = rows > 0 && outputs.All(o => outputAxis(o) == 0);
        if (pieces < 2)
        {
            if (!placed || into is null)
            {
                return await run(inputs, null).ConfigureAwait(false);
            }

            var whole = new ShardedOutputs([0], [rows], into);
            var result = await run(inputs, whole.For(0)).ConfigureAwait(false);
            return outputs.ToDictionary(o => o, o => whole.Join(o, [result[o]]), StringComparer.Ordinal);
        }

        int[] counts = BatchSplit.Counts(rows, Enumerable.Repeat(1.0, pieces).ToArray());
        int[] starts = new int[pieces];
        for (int m = 1; m < pieces; m++)
        {
            starts[m] = starts[m - 1] + counts[m - 1];
        }

        var received = placed ? new ShardedOutputs(starts, counts, into) : null;
        var parts = new Task<IReadOnlyDictionary<string, Tensor>>[pieces];
        for (int m = 0; m < pieces; m++)
        {
            int start = starts[m], count = counts[m];
            var slice = inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, inputAxis(kv.Key), start, count), StringComparer.Ordinal);
            parts[m] = run(slice, received?.For(m));
        }

        var results = await Task.WhenAll(parts).ConfigureAwait(false);
        return outputs.ToDictionary(
            o => o,
            o => received is null
                ? BatchSplit.Concat([.. results.Select(r => r[o])], outputAxis(o))
                : received.Join(o, [.. results.Select(r => r[o])]),
            StringComparer.Ordinal);
    }
}
