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
    public static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(
        IReadOnlyDictionary<string, Tensor> inputs, int rows, int stages, int perStage,
        Func<string, int> inputAxis, IReadOnlyList<string> outputs, Func<string, int> outputAxis,
        Func<IReadOnlyDictionary<string, Tensor>, Task<IReadOnlyDictionary<string, Tensor>>> run)
    {
        int pieces = stages < 2 ? 0 : Math.Min(rows, perStage * stages);
        if (pieces < 2)
        {
            return await run(inputs).ConfigureAwait(false);
        }

        int[] counts = BatchSplit.Counts(rows, Enumerable.Repeat(1.0, pieces).ToArray());
        var parts = new Task<IReadOnlyDictionary<string, Tensor>>[pieces];
        for (int m = 0, start = 0; m < pieces; start += counts[m], m++)
        {
            var slice = inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, inputAxis(kv.Key), start, counts[m]), StringComparer.Ordinal);
            parts[m] = run(slice);
        }

        var results = await Task.WhenAll(parts).ConfigureAwait(false);
        return outputs.ToDictionary(o => o, o => BatchSplit.Concat([.. results.Select(r => r[o])], outputAxis(o)), StringComparer.Ordinal);
    }
}
