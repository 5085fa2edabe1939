using System.CommandLine;
using Tessera.Batch;
using Tessera.Batch.Results;
using Tessera.Cli.Common;

namespace Tessera.Cli.Commands;

/// <summary>`tessera batch`: a model over every record of a dataset, sharded over workers, resumable (see <see cref="BatchJob"/>).</summary>
internal static class BatchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the .onnx model; every input and output has the records on a free first axis", Required = true };
        var data = new Option<string>("--data") { Description = "a folder with one .npy per model input (axis 0 = records), or a .parquet file with a column per input", Required = true };
        var output = new Option<string>("--out") { Description = "a folder for one .npy per output, manifest.json and the journal; or a .parquet file", Required = true };
        var workers = new Option<int>("--workers") { Description = "run on N local worker processes started for the job (0 = in this process)", DefaultValueFactory = _ => 0 };
        var cluster = new Option<string?>("--cluster") { Description = "cluster file whose nodes[].address (HOST:PORT or dns:NAME:PORT) are the workers" };
        var tokenFile = new Option<string?>("--token-file") { Description = $"with --cluster: file holding the shared cluster token (else ${WorkerCommand.TokenVariable})" };
        var strategy = new Option<string>("--strategy") { Description = "how to use the workers: data (the whole model on each, shards pulled by each), pipeline or auto (planned; shards pulled by each replica)", DefaultValueFactory = _ => "data" };
        strategy.AcceptOnlyFromAmong("data", "pipeline", "auto");
        var shardRows = new Option<int?>("--shard-rows") { Description = "records per shard, the unit that workers pull and that is written and journaled (default: about 16 MiB of inputs, 8 shards per worker at least)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "records per inference call (default: about 1 MiB of inputs, at most a shard)" };
        var threads = new Option<int>("--threads") { Description = "intra-op threads of each worker, or of this process without workers (0 = one per core)", DefaultValueFactory = _ => 1 };
        var resume = new Option<bool>("--resume") { Description = "finish the job whose journal --out holds: only the shards not yet written run" };
        var aggregate = new Option<string?>("--aggregate") { Description = "also reduce each output over the records into the manifest: mean, softmax-mean (each record's softmax over its last axis, then the mean) or vote" };
        aggregate.AcceptOnlyFromAmong("mean", "softmax-mean", "vote");
        var grace = new Option<double>("--grace") { Description = "with --workers or --cluster: seconds a worker may be down before the model is placed again without it", DefaultValueFactory = _ => 5 };

        var tls = new TlsOptions();
        var command = new Command("batch", "Run a model over a dataset, sharded over workers, resumable, each record's output exactly once")
        {
            model, data, output, workers, cluster, tokenFile, strategy, shardRows, batchSize, threads, resume, aggregate, grace,
        };
        foreach (var option in tls.All) command.Options.Add(option);
        var wire = new WireDtypeOption();
        command.Options.Add(wire.Option);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 0) throw new CliException("--threads must be 0 or more");
            int workerCount = parse.GetValue(workers);
            if (workerCount < 0) throw new CliException("--workers must be 0 or more");
            string? clusterPath = parse.GetValue(cluster);
            if (clusterPath is not null && workerCount > 0) throw new CliException("--workers starts workers of its own; --cluster runs on the cluster file's: give one of them");
            if (parse.GetResult(strategy) is { Implicit: false } && clusterPath is null && workerCount == 0) throw new CliException("--strategy goes with --workers or --cluster");
            var clusterTls = tls.Read(parse);
            if (clusterTls is not null && clusterPath is null) throw new CliException("--tls-cert goes with --cluster (local workers talk over loopback)");
            if (parse.GetValue(tokenFile) is not null && clusterPath is null) throw new CliException("--token-file goes with --cluster");
            var wireType = wire.Read(parse);
            if (wireType != Tessera.Cluster.Transport.WireDataType.Float32 && clusterPath is null && workerCount == 0) throw new CliException("--wire-dtype goes with --workers or --cluster (a job in this process sends no tensors)");

            var request = new BatchRequest(parse.GetValue(model)!, parse.GetValue(data)!, parse.GetValue(output)!)
            {
                ShardRows = parse.GetValue(shardRows),
                BatchSize = parse.GetValue(batchSize),
                Resume = parse.GetValue(resume),
                Parallelism = clusterPath is not null ? PlanFiles.ClusterNodes(clusterPath).Count : Math.Max(workerCount, 1),
                Aggregate = parse.GetValue(aggregate) is { } kind ? RecordAggregator.Parse(kind) : null,
            };
            var target = new BatchTarget(workerCount, clusterPath, parse.GetValue(tokenFile), clusterTls, parse.GetValue(strategy)!, threadCount, TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(grace))), wireType);
            return BatchRun.Run(request, target);
        });
        return command;
    }
}
