using Tessera.Cli.Common;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Execution;
using Tessera.Onnx.Io;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>`tessera run --workers N`: starts N local worker processes, runs the model on them, and stops them.</summary>
internal static class RunOnWorkers
{
    public static IReadOnlyDictionary<string, Tensor> Run(string modelPath, IReadOnlyDictionary<string, Tensor> feeds, int workers, int threads, string strategy)
    {
        if (strategy is not ("auto" or "data"))
        {
            // Pipeline and tensor-parallel runs across processes need the planner's sub-models (issue 4).
            throw new CliException($"--strategy {strategy} across worker processes is not available yet; use --strategy data (or auto)");
        }

        var model = ModelFile.FromPath(modelPath);
        var outputs = ModelReader.Load(modelPath).Graph.Outputs.Select(o => o.Name).ToArray();
        using var local = LocalWorkers.Start(workers, threads, SelfCommand(), TimeSpan.FromSeconds(60));
        return RunAsync(local, model, feeds, outputs).GetAwaiter().GetResult();
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(LocalWorkers local, ModelFile model, IReadOnlyDictionary<string, Tensor> feeds, string[] outputs)
    {
        await using var coordinator = new ClusterCoordinator(local.Token);
        var clients = await Task.WhenAll(local.Addresses.Select(a => coordinator.ConnectAsync(a))).ConfigureAwait(false);
        var loaded = await Task.WhenAll(clients.Select(c => coordinator.EnsureModelAsync(c, model))).ConfigureAwait(false);
        var replicas = clients.Select((c, i) => new Route([new RouteStep(c, model.Hash, loaded[i].Inputs)])).ToArray();
        return await DataParallelRunner.RunAsync(coordinator, replicas, feeds, outputs).ConfigureAwait(false);
    }

    /// <summary>How to start this same `tessera` (apphost, or `dotnet tessera.dll`).</summary>
    private static string[] SelfCommand()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string entry = typeof(RunOnWorkers).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, entry] : [process];
    }
}
