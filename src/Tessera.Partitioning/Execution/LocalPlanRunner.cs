using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Data;
using Tessera.Partitioning.Plans;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;

namespace Tessera.Partitioning.Execution;

/// <summary>
/// Runs a plan in this process, the way the cluster runs it across processes: each stage in its own
/// <see cref="InferenceSession"/>, tensors passed from stage to stage by name, a batch split between replicas by
/// their weights along the plan's batch axes and the results joined in replica order. Replicas run one after the
/// other on the stage's one session. A tensor-parallel stage runs its shards in a <see cref="TensorParallelGroup"/>
/// (one session per rank, collectives in memory), all ranks fed the stage's inputs, rank 0's outputs sent on (a
/// plan only cuts where every rank holds the same values). The reference for distributed runs: pipeline and
/// data-parallel outputs are the single-node outputs bit for bit; tensor-parallel and hybrid outputs are the
/// whole-model tensor-parallel run's. Calls are serialised; dispose to release the rank groups.
/// </summary>
public sealed class LocalPlanRunner : IDisposable
{
    private readonly Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>>[] _stages;
    private readonly List<IDisposable> _owned = [];
    private readonly object _lock = new();

    /// <summary>Loads the sub-models of <paramref name="plan"/> from <paramref name="directory"/> after checking their SHA-256.</summary>
    public LocalPlanRunner(PlanDocument plan, string directory, SessionOptions? options = null)
    {
        Plan = plan;
        PlanReader.VerifyFiles(plan, directory);
        options ??= new SessionOptions();
        _stages = new Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>>[plan.Stages.Count];
        for (int s = 0; s < _stages.Length; s++)
        {
            var stage = plan.Stages[s];
            if (stage.TensorParallel.Degree > 1)
            {
                var group = new TensorParallelGroup(stage.TensorParallel.Shards.Select(x => ModelReader.Load(Path.Combine(directory, x.Model))).ToList(), options);
                _owned.Add(group);
                _stages[s] = group.Run;
            }
            else
            {
                _stages[s] = new InferenceSession(ModelReader.Load(Path.Combine(directory, stage.Model)), options).Run;
            }
        }
    }

    public void Dispose()
    {
        foreach (var owned in _owned) owned.Dispose();
    }

    public PlanDocument Plan { get; }

    public static LocalPlanRunner Load(string planPath, SessionOptions? options = null)
    {
        var plan = PlanReader.Load(planPath);
        return new LocalPlanRunner(plan, Path.GetDirectoryName(Path.GetFullPath(planPath))!, options);
    }

    /// <summary>Runs the plan and returns the model outputs by name, in the model's order.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        string? unknown = inputs.Keys.FirstOrDefault(k => !Plan.Inputs.Contains(k));
        if (unknown is not null) throw new PartitionException($"the model has no input named '{unknown}'; its inputs are: {string.Join(", ", Plan.Inputs)}");
        string? missing = Plan.Inputs.FirstOrDefault(k => !inputs.ContainsKey(k));
        if (missing is not null) throw new PartitionException($"input '{missing}' is missing");

        lock (_lock)
        {
            if (Plan.DataParallel is not { } data) return Ordered(RunChain(inputs));
            int batch = BatchRows(inputs, data);
            int[] counts = BatchSplit.Counts(batch, Plan.Stages[0].Replicas.Select(r => r.BatchWeight).ToList());
            var parts = new List<IReadOnlyDictionary<string, Tensor>>();
            int start = 0;
            foreach (int count in counts)
            {
                if (count == 0) continue;
                int from = start;
                parts.Add(RunChain(inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, data.InputAxes[kv.Key], from, count), StringComparer.Ordinal)));
                start += count;
            }

            return Plan.Outputs.ToDictionary(o => o, o => BatchSplit.Concat(parts.Select(p => p[o]).ToList(), data.OutputAxes[o]), StringComparer.Ordinal);
        }
    }

    private IReadOnlyDictionary<string, Tensor> RunChain(IReadOnlyDictionary<string, Tensor> inputs)
    {
        IReadOnlyDictionary<string, Tensor> values = inputs;
        for (int s = 0; s < _stages.Length; s++)
        {
            var stage = Plan.Stages[s];
            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (string name in stage.Inputs) feeds[name] = values[name];
            values = _stages[s](feeds);
        }

        return values;
    }

    private Dictionary<string, Tensor> Ordered(IReadOnlyDictionary<string, Tensor> values) =>
        Plan.Outputs.ToDictionary(o => o, o => values[o], StringComparer.Ordinal);

    private static int BatchRows(IReadOnlyDictionary<string, Tensor> inputs, PlanDataParallel data)
    {
        int rows = -1;
        foreach (var (name, tensor) in inputs)
        {
            int axis = data.InputAxes[name];
            if (axis >= tensor.Rank) throw new PartitionException($"input '{name}' is {tensor}, which has no batch axis {axis}");
            if (rows >= 0 && tensor.Shape[axis] != rows)
            {
                throw new PartitionException($"input '{name}' has {tensor.Shape[axis]} rows on its batch axis, another input has {rows}");
            }

            rows = tensor.Shape[axis];
        }

        return rows;
    }
}
