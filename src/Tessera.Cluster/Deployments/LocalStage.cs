using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// A stage in this process: a function over named tensors (an InferenceSession's Run, or a tensor-parallel group's,
/// whose ranks exchange partial results in memory). Runs are serialised per stage, as a session's are; the outputs
/// a placement wants placed are copied into the storage it gives, so joins treat both backends alike.
/// </summary>
public sealed class LocalStage(string name, IReadOnlyList<string> inputs, Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> run) : IStageBackend
{
    private readonly Lock _lock = new();

    public IReadOnlyList<string> Inputs { get; } = inputs;

    public IReadOnlyList<WorkerClient> Workers => [];

    public bool IsUp => true;

    public bool RunsApart => false;

    public bool Chains(IStageBackend next) => next is LocalStage;

    /// <summary>Stages in this process run one after another, never micro-batched: nothing to measure for it.</summary>
    public Task<BatchCost[]> MeasuredCostsAsync(CancellationToken cancellation) => Task.FromResult<BatchCost[]>([]);

    public Task<IReadOnlyDictionary<string, Tensor>> RunSegmentAsync(IReadOnlyList<IStageBackend> segment, IReadOnlyDictionary<string, Tensor> values, IReadOnlyList<string> outputs, OutputPlacement? place, CancellationToken cancellation)
    {
        DeferredStorage.Materialize(values); // the model reads the tensors' own bytes
        var known = new Dictionary<string, Tensor>(values, StringComparer.Ordinal);
        foreach (var stage in segment.Cast<LocalStage>())
        {
            cancellation.ThrowIfCancellationRequested();
            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (string input in stage.Inputs) feeds[input] = known[input];
            IReadOnlyDictionary<string, Tensor> produced;
            lock (stage._lock)
            {
                produced = stage.Run(feeds);
            }

            foreach (var (key, tensor) in produced) known[key] = tensor;
        }

        var result = new Dictionary<string, Tensor>(outputs.Count, StringComparer.Ordinal);
        foreach (string output in outputs)
        {
            var tensor = known[output];
            if (place?.Invoke(output, tensor.DataType, tensor.Shape) is { } target)
            {
                tensor.Bytes.CopyTo(target.Bytes);
                tensor = target;
            }

            result[output] = tensor;
        }

        return Task.FromResult<IReadOnlyDictionary<string, Tensor>>(result);
    }

    private Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> Run { get; } = run;

    public override string ToString() => name;
}
