using System.Text.Json;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Serving.Backends;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;
using Tessera.Tensors;
using Tessera.Tests.Cluster;

namespace Tessera.Tests.Serving;

/// <summary>
/// A real server in this process whose models run on real `tessera worker` processes on loopback: a model
/// repository written to a temp folder, the workers, the coordinator (fast failure detection) and an HttpClient.
/// </summary>
internal sealed class ClusterServer : IAsyncDisposable
{
    private readonly ClusterFixture _fx;
    private readonly WorkerProcess[] _workers;
    private readonly ServingCluster _cluster;

    private ClusterServer(ClusterFixture fx, WorkerProcess[] workers, ServingCluster cluster, ServingServer server)
    {
        _fx = fx;
        _workers = workers;
        _cluster = cluster;
        Server = server;
        Client = new HttpClient { BaseAddress = new Uri(server.Addresses[0]), Timeout = TimeSpan.FromSeconds(60) };
    }

    public ServingServer Server { get; }

    public HttpClient Client { get; }

    public IReadOnlyList<WorkerProcess> Workers => _workers;

    /// <summary>Starts <paramref name="workers"/> workers and serves <paramref name="models"/> (name, model, config.json text or null) on them.</summary>
    public static Task<ClusterServer> StartAsync(int workers, params (string Name, OnnxModel? Model, string? Config)[] models) =>
        StartAsync(workers, ClusterFixture.FastOptions, models);

    public static Task<ClusterServer> StartAsync(int workers, CoordinatorOptions options, params (string Name, OnnxModel? Model, string? Config)[] models) =>
        StartAsync(workers, options, new DeploymentOptions(), models);

    /// <param name="deployment">How the models' deployments wait for placements and plan around lost workers.</param>
    public static async Task<ClusterServer> StartAsync(int workers, CoordinatorOptions options, DeploymentOptions deployment, params (string Name, OnnxModel? Model, string? Config)[] models)
    {
        var fx = new ClusterFixture();
        var processes = new List<WorkerProcess>();
        try
        {
            for (int i = 0; i < workers; i++) processes.Add(fx.StartRestartableWorker()); // any may be restarted on its port
            string repository = WriteRepository(Path.Combine(fx.Directory, "models"), models);
            var cluster = await ServingCluster.ConnectAsync(fx.Token, [.. processes.Select(p => p.Address)], 1, DeploymentStrategy.Data, options);
            cluster.DeploymentOptions = deployment;
            try
            {
                var server = await ServingServer.StartAsync(new ServerOptions { Url = "http://127.0.0.1:0" }, log => ModelRepository.LoadDirectory(repository, new ModelConfig(), log, cluster));
                return new ClusterServer(fx, [.. processes], cluster, server);
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }
        catch
        {
            foreach (var p in processes) p.Dispose();
            fx.Dispose();
            throw;
        }
    }

    /// <summary>A model repository in <paramref name="repository"/>: per model its folder, version 1's model.onnx and its config.json.</summary>
    public static string WriteRepository(string repository, params (string Name, OnnxModel? Model, string? Config)[] models)
    {
        foreach (var (name, model, config) in models)
        {
            Directory.CreateDirectory(Path.Combine(repository, name));
            if (model is not null)
            {
                Directory.CreateDirectory(Path.Combine(repository, name, "1"));
                ModelWriter.Save(model, Path.Combine(repository, name, "1", "model.onnx"));
            }

            if (config is not null) File.WriteAllText(Path.Combine(repository, name, "config.json"), config);
        }

        return repository;
    }

    /// <summary>Starts worker <paramref name="index"/> again on its address, with an empty cache, after it was killed.</summary>
    public WorkerProcess RestartWorker(int index)
    {
        _workers[index].Dispose();
        _workers[index] = WorkerProcess.At(_workers[index].Address, _fx.TokenFile, _fx.NewCacheDir());
        return _workers[index];
    }

    public ClusterBackend Backend(string model) => (ClusterBackend)Server.Models.Find(model, null).Backend;

    public async Task<(int Status, JsonElement Body)> InferAsync(string model, Tensor x)
    {
        using var content = new StringContent(Wire.Request(Wire.Fp32Input("x", x)));
        using var response = await Client.PostAsync($"/v2/models/{model}/infer", content);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>Posts every input as binary data and asks for every output as binary data (so tensors cross exactly).</summary>
    public async Task<Dictionary<string, Tensor>> InferBinaryAsync(string model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var names = inputs.Keys.ToArray();
        string header = "{\"inputs\":[" + string.Join(",", names.Select(n =>
            $"{{\"name\":\"{n}\",\"shape\":{JsonSerializer.Serialize(inputs[n].Shape)},\"datatype\":\"{WireName(inputs[n].DataType)}\",\"parameters\":{{\"binary_data_size\":{inputs[n].ByteLength}}}}}"))
            + "],\"parameters\":{\"binary_data_output\":true}}";
        byte[] json = System.Text.Encoding.UTF8.GetBytes(header);
        using var content = new ByteArrayContent([.. json, .. names.SelectMany(n => inputs[n].Bytes.ToArray())]);
        content.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await Client.PostAsync($"/v2/models/{model}/infer", content);
        var (body, binary) = await Wire.ReadBinaryAsync(response);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int at = 0;
        foreach (var o in body.GetProperty("outputs").EnumerateArray())
        {
            int size = o.GetProperty("parameters").GetProperty("binary_data_size").GetInt32();
            var tensor = Tensor.Allocate(DataType.Float32, Wire.Shape(o));
            Assert.Equal("FP32", o.GetProperty("datatype").GetString());
            binary.AsSpan(at, size).CopyTo(tensor.Bytes);
            outputs[o.GetProperty("name").GetString()!] = tensor;
            at += size;
        }

        return outputs;
    }

    private static string WireName(DataType type) => type switch
    {
        DataType.Float32 => "FP32",
        DataType.Int64 => "INT64",
        _ => throw new NotSupportedException($"the test sends no {type}"),
    };

    /// <summary>The value of one /metrics series for a worker (matched by its address label), or null when absent.</summary>
    public async Task<double?> WorkerMetricAsync(string series, string labelsBefore, WorkerProcess worker)
    {
        string metrics = await Client.GetStringAsync("/metrics");
        string prefix = $"{series}{{{labelsBefore}";
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal) && line.Contains($"address=\"{worker.Address}\"}}", StringComparison.Ordinal))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Polls /metrics until <paramref name="done"/> holds (at most 10 s); the last answer is returned either way.</summary>
    public async Task<string> WaitForMetricsAsync(Func<string, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string metrics;
        while (!done(metrics = await Client.GetStringAsync("/metrics")) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        return metrics;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        await _cluster.DisposeAsync();
        foreach (var w in _workers) w.Dispose();
        _fx.Dispose();
    }
}
