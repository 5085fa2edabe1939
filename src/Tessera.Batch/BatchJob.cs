using Tessera.Batch.Datasets;
using Tessera.Batch.Results;
using Tessera.Batch.Scheduling;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors.Formats;

namespace Tessera.Batch;

/// <summary>
/// An offline job (`tessera batch`): a model run over every record of a dataset, cut into shards that a deployment's
/// placements pull (<see cref="ShardLanes"/>), each shard's result written whole and recorded in a journal, and once
/// every shard is written the outputs assembled in record order with a manifest. <see cref="OpenAsync"/> checks the
/// model, the dataset and the output (a new job, or with <c>Resume</c> the same job's journal, whose written shards
/// are not run again); <see cref="RunAsync"/> runs what is left on a deployment the caller makes.
/// </summary>
public sealed partial class BatchJob : IAsyncDisposable
{
    // A shard's inputs by default: small enough that a few per lane stay in memory, large enough to write efficiently.
    private const long ShardBytes = 16 << 20;

    // Inputs of one inference call by default.
    private const long BatchBytes = 1 << 20;

    // Shards per expected worker by default, so that faster workers can take more.
    private const int ShardsPerWorker = 8;

    private readonly BatchRequest _request;
    private readonly JobLayout _layout;
    private readonly IDataset _dataset;
    private readonly BatchJournal? _journal;
    private readonly ShardStore? _store;
    private readonly Shard[] _shards;

    private BatchJob(BatchRequest request, JobLayout layout, OnnxModel model, IDataset dataset, JobKey key, int batchSize, BatchJournal? journal, BatchManifest? finished)
    {
        _request = request;
        _layout = layout;
        _dataset = dataset;
        _journal = journal;
        Model = model;
        Key = key;
        BatchSize = batchSize;
        Finished = finished;
        _shards = Shard.Cut(dataset.Records, key.ShardRows);
        if (journal is not null)
        {
            _store = new ShardStore(layout.Shards);
            _store.RemoveTemporary();
            journal.Forget(journal.Done.Keys.Where(s => !_store.Has(s))); // a result gone from disk runs again
        }

        var done = journal?.Done ?? new Dictionary<int, ShardEntry>();
        ShardsDone = _shards.Count(s => done.ContainsKey(s.Index));
        Progress = new BatchProgress(dataset.Records, _shards.Where(s => done.ContainsKey(s.Index)).Sum(s => (long)s.Records));
    }

    public OnnxModel Model { get; }

    public JobKey Key { get; }

    public int BatchSize { get; }

    public int Shards => _shards.Length;

    /// <summary>Shards an earlier run wrote.</summary>
    public int ShardsDone { get; }

    /// <summary>The manifest when the output already holds this job, finished (a resume with nothing left to do).</summary>
    public BatchManifest? Finished { get; }

    public string DataSource => _dataset.Source;

    public BatchProgress Progress { get; }

    /// <summary>The shape of one batch of each input, for a deployment that plans (pipelines) by shapes.</summary>
    public IReadOnlyDictionary<string, int[]> BatchShapes => _dataset.Columns.ToDictionary(c => c.Name, c => (int[])[BatchSize, .. c.RecordShape], StringComparer.Ordinal);

    /// <summary>Checks the model, the dataset and the output, and opens (or with Resume, takes up) the job's journal.</summary>
    public static async Task<BatchJob> OpenAsync(BatchRequest request, CancellationToken cancellation = default)
    {
        if (request.ShardRows is < 1) throw new BatchException("--shard-rows must be 1 or more");
        if (request.BatchSize is < 1) throw new BatchException("--batch-size must be 1 or more");
        var model = ModelReader.Load(request.ModelPath);
        CheckModel(model, request.Aggregate);
        var layout = JobLayout.For(request.OutPath);
        var finished = await layout.FinishedAsync(cancellation).ConfigureAwait(false);
        var dataset = await Dataset.OpenAsync(request.DataPath, model.Graph.Inputs, cancellation).ConfigureAwait(false);
        BatchJournal? journal = null;
        try
        {
            var journaled = File.Exists(layout.Journal) ? BatchJournal.ReadKey(layout.Journal) ?? throw new BatchException($"'{layout.Journal}' is not a batch journal: choose another --out") : null;
            long recordBytes = Math.Max(1, dataset.Columns.Sum(c => c.RecordBytes));
            int shardRows = request.ShardRows ?? journaled?.ShardRows ?? finished?.Job.ShardRows ?? DefaultShardRows(dataset.Records, recordBytes, request.Parallelism);
            var key = new JobKey(ModelFile.FromPath(request.ModelPath).HashHex, dataset.Identity, dataset.Records, shardRows);
            int batchSize = (int)Math.Min(request.BatchSize ?? Math.Max(1, BatchBytes / recordBytes), shardRows);
            if (finished is not null)
            {
                if (finished.Job != key) throw AnotherJob(request.OutPath, finished.Job, key);
                if (!request.Resume) throw new BatchException($"'{request.OutPath}' already holds this job's finished output ({finished.Records} records): add --resume to check it, or choose another --out");
            }
            else if (journaled is not null)
            {
                if (journaled != key) throw AnotherJob(request.OutPath, journaled, key);
                if (!request.Resume) throw new BatchException($"'{request.OutPath}' holds an unfinished run of this job: add --resume to finish it, or choose another --out");
                journal = BatchJournal.Resume(layout.Journal);
            }
            else
            {
                if (layout.IsOccupied) throw new BatchException($"'{request.OutPath}' is not empty and holds no batch journal: give a new or empty folder");
                Directory.CreateDirectory(layout.WorkFolder);
                journal = BatchJournal.Create(layout.Journal, key);
            }

            return new BatchJob(request, layout, model, dataset, key, batchSize, journal, finished);
        }
        catch
        {
            journal?.Dispose();
            await dataset.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void CheckModel(OnnxModel model, AggregateKind? aggregate)
    {
        // Outputs need not declare their shapes: each batch's outputs are checked to have its records on axis 0.
        var graph = model.Graph;
        var fixedInput = graph.Inputs.FirstOrDefault(i => i.Shape is [] || i.Shape is [{ IsKnown: true }, ..]);
        if (graph.Inputs.Count == 0 || fixedInput is not null)
        {
            throw new BatchException($"batch needs a model whose inputs all have a free first dimension (the records); this one has {(fixedInput is null ? "no input" : fixedInput.ToString())}: export it with a dynamic batch axis");
        }

        var clash = graph.Outputs.GroupBy(o => TensorFileName.Safe(o.Name), StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new BatchException($"outputs {string.Join(" and ", clash.Select(o => $"'{o.Name}'"))} would both be written to {clash.Key}.npy");
        var notFloat = graph.Outputs.FirstOrDefault(o => o.ElementType is not (Tensors.DataType.Float32 or Tensors.DataType.Float64 or Tensors.DataType.Undefined));
        if (aggregate is { } kind && notFloat is not null)
        {
            throw new BatchException($"--aggregate {RecordAggregator.Name(kind)} needs float outputs; '{notFloat.Name}' holds {Tensors.DataTypes.Name(notFloat.ElementType)}");
        }
    }

    private static BatchException AnotherJob(string output, JobKey held, JobKey asked) =>
        new($"'{output}' holds another job ({held.Describe()}); this one is {asked.Describe()}: choose another --out, or delete it");

    private static int DefaultShardRows(long records, long recordBytes, int parallelism)
    {
        long byBytes = Math.Max(1, ShardBytes / recordBytes);
        long shards = (long)ShardsPerWorker * Math.Max(1, parallelism);
        long forBalance = Math.Max(1, (records + shards - 1) / shards);
        return (int)Math.Min(Math.Min(byBytes, forBalance), int.MaxValue);
    }

    public async ValueTask DisposeAsync()
    {
        _journal?.Dispose();
        await _dataset.DisposeAsync().ConfigureAwait(false);
    }
}
