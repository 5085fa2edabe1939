using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Cli.Commands;

/// <summary>`tessera run`: one inference, outputs written as .npy files.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the .onnx model" };
        var plan = new Option<string>("--plan") { Description = "a plan.json from `tessera plan`: run its parts in this process instead of --model" };
        var inputs = new Option<string[]>("--input") { Description = "NAME=FILE (.npy or .pb); repeat per input", AllowMultipleArgumentsPerToken = false };
        var outputDir = new Option<string>("--output-dir") { Description = "folder for one .npy per output", Required = true };
        var threads = new Option<int>("--threads") { Description = "intra-op threads (0 = one per core)", DefaultValueFactory = _ => 1 };
        var workers = new Option<int>("--workers") { Description = "run on N local worker processes started for this run (0 = in this process)", DefaultValueFactory = _ => 0 };
        var strategy = new Option<string>("--strategy") { Description = "how to use the workers: auto|data|pipeline|tensor", DefaultValueFactory = _ => "auto" };
        strategy.AcceptOnlyFromAmong("auto", "data", "pipeline", "tensor");
        var degree = new Option<int?>("--degree") { Description = "with --workers and --strategy tensor: ranks of the tensor-parallel group (default: --workers)" };
        var cluster = new Option<string>("--cluster") { Description = "cluster file whose nodes[].address (HOST:PORT or dns:NAME:PORT) are the workers: a --model placed by --strategy, or a --plan" };
        var grace = new Option<double>("--grace") { Description = "with --workers or --cluster: seconds a worker may be down before the model is placed again without it", DefaultValueFactory = _ => 5 };
        var tokenFile = new Option<string?>("--token-file") { Description = $"with --cluster: file holding the shared cluster token (else ${WorkerCommand.TokenVariable})" };

        var tls = new TlsOptions("--cluster-tls");
        var wire = new WireDtypeOption();
        var command = new Command("run", "Run a model once on the given inputs and write its outputs") { model, plan, inputs, outputDir, threads, workers, strategy, degree, cluster, tokenFile, grace, wire.Option };
        foreach (var option in tls.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 0)
            {
                throw new CliException("--threads must be 0 or more");
            }

            int workerCount = parse.GetValue(workers);
            if (workerCount < 0)
            {
                throw new CliException("--workers must be 0 or more");
            }

            if ((parse.GetValue(model) is null) == (parse.GetValue(plan) is null))
            {
                throw new CliException("give either --model or --plan");
            }

            if (workerCount > 0 && parse.GetValue(plan) is not null)
            {
                throw new CliException("--workers runs a --model; a --plan runs in this process, or on workers with --cluster");
            }

            if (parse.GetValue(degree) is not null && workerCount == 0 && parse.GetValue(cluster) is null)
            {
                throw new CliException("--degree goes with --workers or --cluster, and --strategy tensor");
            }

            if (parse.GetValue(cluster) is not null && workerCount > 0)
            {
                throw new CliException("--workers starts workers of its own; --cluster runs on the cluster file's: give one of them");
            }

            var clusterTls = tls.Read(parse);
            if (clusterTls is not null && parse.GetValue(cluster) is null)
            {
                throw new CliException($"{tls.CertificateOption} goes with --cluster (local workers talk over loopback)");
            }

            var wireType = wire.Read(parse);
            if (wireType != WireDataType.Float32 && workerCount == 0 && parse.GetValue(cluster) is null)
            {
                throw new CliException("--wire-dtype goes with --workers or --cluster (a run in this process sends no tensors)");
            }

            var options = new SessionOptions { Threads = threadCount };
            Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> run = parse.GetValue(plan) is { } planPath
                ? parse.GetValue(cluster) is { } clusterPath
                    ? feeds => PlanOnCluster.Run(planPath, clusterPath, parse.GetValue(tokenFile), clusterTls, wireType, feeds)
                    : PlanRun.Load(planPath, options)
                : parse.GetValue(cluster) is { } members
                    ? feeds => RunOnWorkers.RunOnCluster(parse.GetValue(model)!, feeds, members, parse.GetValue(tokenFile), clusterTls, wireType, parse.GetValue(strategy)!, parse.GetValue(degree), TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(grace))))
                : workerCount > 0
                    ? feeds => RunOnWorkers.Run(parse.GetValue(model)!, feeds, workerCount, Math.Max(threadCount, 1), wireType, parse.GetValue(strategy)!, parse.GetValue(degree), TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(grace))))
                    : InferenceSession.Load(parse.GetValue(model)!, options).Run;
            var feeds = TensorFiles.ReadInputs(parse.GetValue(inputs) ?? []);
            var clock = Stopwatch.StartNew();
            var results = run(feeds);
            double ms = clock.Elapsed.TotalMilliseconds;

            string dir = parse.GetValue(outputDir)!;
            Directory.CreateDirectory(dir);
            foreach (var (name, tensor) in results)
            {
                string file = Path.Combine(dir, TensorFileName.Safe(name) + ".npy");
                if (tensor.DataType == DataType.String)
                {
                    throw new CliException($"output '{name}' holds strings, which .npy output does not support");
                }

                NpyFormat.WriteFile(file, tensor);
                Console.WriteLine($"{name}: {DataTypes.Name(tensor.DataType)} {ShapeMath.Format(tensor.Shape)} -> {file}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"latency: {ms:F3} ms"));
            return 0;
        });
        return command;
    }
}
