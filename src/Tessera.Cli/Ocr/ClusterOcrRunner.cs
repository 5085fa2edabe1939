using System.Diagnostics;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>
/// The PP-OCR models on local workers: detection pipelined across them (a plan per page size, micro-batches in
/// flight), orientation and recognition with each batch split over them (data parallel). With a
/// <paramref name="reference"/>, each batch also runs in this process first and the workers' outputs must equal it
/// bit for bit. Each run is reported through <paramref name="report"/>.
/// </summary>
internal sealed class ClusterOcrRunner(LocalCluster cluster, OcrModelFiles files, LocalOcrRunner? reference, Action<string> report) : IOcrModelRunner, IAsyncDisposable
{
    private readonly Dictionary<string, Deployment> _deployments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _inputNames = new(StringComparer.Ordinal);

    public async Task<Tensor> RunAsync(OcrModel model, Tensor input)
    {
        string path = files.PathOf(model);
        string role = model.ToString().ToLowerInvariant();
        string what = $"{role,-12} {Path.GetFileName(path)} {ShapeMath.Format(input.Shape)}: ";

        Tensor? expected = null;
        if (reference is not null)
        {
            var alone = Stopwatch.StartNew();
            expected = await reference.RunAsync(model, input).ConfigureAwait(false);
            what += string.Create(CultureInfo.InvariantCulture, $"one process {alone.Elapsed.TotalMilliseconds:F0} ms; ");
        }

        var clock = Stopwatch.StartNew();
        var feeds = new Dictionary<string, Tensor> { [InputName(path)] = input };
        var deployment = await DeploymentAsync(model, path, feeds).ConfigureAwait(false);
        var output = (await deployment.RunAsync(feeds).ConfigureAwait(false)).Values.First();
        string how = deployment.Plan is { } plan
            ? $"pipeline of {plan.Stages.Count} stages: {string.Join("; ", deployment.Placements.Select(p => p.ToString()))}, micro-batches in flight"
            : $"data parallel: the batch split over {string.Join(" and ", deployment.Placements.Select(p => p.ToString()))}";
        what += string.Create(CultureInfo.InvariantCulture, $"{how}: {clock.Elapsed.TotalMilliseconds:F0} ms");
        if (expected is not null)
        {
            bool same = output.Shape.SequenceEqual(expected.Shape) && output.Bytes.SequenceEqual(expected.Bytes);
            report(what + $"; outputs {(same ? "bit-identical to" : "DIFFERENT from")} one process");
            if (!same) throw new CliException($"{role}: the distributed outputs differ from the single-process outputs", 1);
        }
        else
        {
            report(what);
        }

        return output;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var deployment in _deployments.Values) await deployment.DisposeAsync().ConfigureAwait(false);
        _deployments.Clear();
    }

    /// <summary>
    /// The detector planned as a pipeline over every worker, once per input shape (the plan is cut for it); the other
    /// two models as a whole on every worker, once.
    /// </summary>
    private async Task<Deployment> DeploymentAsync(OcrModel model, string path, IReadOnlyDictionary<string, Tensor> feeds)
    {
        string key = model == OcrModel.Detection ? $"{model}{ShapeMath.Format(feeds.Values.First().Shape)}" : model.ToString();
        if (!_deployments.TryGetValue(key, out var deployment))
        {
            deployment = model == OcrModel.Detection
                ? await cluster.DeployAsync(path, DeploymentStrategy.Pipeline, feeds, PlanObjective.Throughput, cluster.Addresses.Count).ConfigureAwait(false)
                : await cluster.DeployAsync(path, DeploymentStrategy.Data, feeds).ConfigureAwait(false);
            _deployments[key] = deployment;
        }

        return deployment;
    }

    private string InputName(string path)
    {
        if (!_inputNames.TryGetValue(path, out string? name))
        {
            name = Tessera.Onnx.Io.ModelReader.Load(path).Graph.Inputs[0].Name;
            _inputNames[path] = name;
        }

        return name;
    }
}
