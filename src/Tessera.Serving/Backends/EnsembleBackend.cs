using Tessera.Serving.Aggregation;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>
/// An ensemble: each call queues the same inputs on every member model's scheduler at once — so members run at the
/// same time, each on its own replicas, and batch with other traffic to them — then combines the chosen output
/// with the <see cref="PredictionAggregator"/>. One replica that accepts many calls at a time.
/// </summary>
internal sealed class EnsembleBackend : IInferenceBackend
{
    private readonly ServedModel[] _members;
    private readonly EnsembleConfig _config;
    private readonly string[] _memberNames;

    public EnsembleBackend(IReadOnlyList<ServedModel> members, EnsembleConfig config)
    {
        _members = [.. members];
        _config = config;
        _memberNames = _members.Select(m => m.Name).ToArray();
        var first = _members[0].Signature;
        foreach (var m in _members.Skip(1))
        {
            if (!SameInputs(first.Inputs, m.Signature.Inputs))
            {
                throw new InvalidDataException($"ensemble member '{m.Name}' has other inputs than '{_members[0].Name}': members must take the same inputs");
            }
        }

        var outputs = _members.Select(m => m.Signature.FindOutput(config.Output)
            ?? throw new InvalidDataException($"ensemble member '{m.Name}' has no output '{config.Output}'")).ToArray();
        long[] shape;
        try
        {
            shape = config.Aggregation.OutputShape(outputs.Select(o => o.Shape ?? throw new AggregationException($"the rank of output '{o.Name}' is not known")).ToArray());
        }
        catch (AggregationException e)
        {
            throw new InvalidDataException($"ensemble over '{config.Output}': {e.Message}", e);
        }

        Signature = new ModelSignature(first.Inputs, [new TensorSignature(config.Output, config.Aggregation.OutputDataType(outputs[0].DataType), shape)]);
    }

    public ModelSignature Signature { get; }

    public int ReplicaCount => 1;

    public double DeclaredSpeed(int replica) => 1;

    public int Waiting(int replica) => 0;

    public async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        var pending = new PendingRequest[_members.Length];
        for (int i = 0; i < _members.Length; i++)
        {
            var scheduler = _members[i].Scheduler;
            var request = new PendingRequest(inputs, scheduler.RowsOf(inputs), scheduler.Options.DefaultPriority - 1);
            if (!scheduler.TryEnqueue(request))
            {
                for (int j = 0; j < i; j++) _members[j].Scheduler.TryAbandon(pending[j]);
                throw new ServingException(503, $"ensemble member '{_members[i].Name}' has a full queue; retry later");
            }

            pending[i] = request;
        }

        var results = await Task.WhenAll(pending.Select(p => p.Completion.Task)).ConfigureAwait(false);
        try
        {
            var combined = PredictionAggregator.Aggregate(_config.Aggregation, results.Select(r => r[_config.Output]).ToArray(), _memberNames);
            return new Dictionary<string, Tensor>(StringComparer.Ordinal) { [_config.Output] = combined };
        }
        catch (AggregationException e)
        {
            throw new ServingException(500, $"ensemble aggregation failed: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        // The members are served models of their own; the repository disposes them.
    }

    private static bool SameInputs(IReadOnlyList<TensorSignature> a, IReadOnlyList<TensorSignature> b) =>
        a.Count == b.Count && a.All(x => b.Any(y => y.Name == x.Name && y.DataType == x.DataType && (y.Shape?.Length ?? -1) == (x.Shape?.Length ?? -1)));
}
