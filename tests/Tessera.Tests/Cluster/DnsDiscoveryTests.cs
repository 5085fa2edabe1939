using System.Diagnostics;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Cluster;

/// <summary>
/// `dns:NAME:PORT` against a real resolver, as a Kubernetes headless service is used: Debian's dnsmasq answers one A
/// record per worker namespace, the server runs in a namespace of its own whose resolv.conf names dnsmasq, and a
/// worker added to the name later gets work without a restart; a name that resolves to nothing is logged, not fatal.
/// </summary>
public sealed class DnsDiscoveryTests : IDisposable
{
    private const string Name = "workers.tessera.test";

    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [NetnsFact]
    public async Task WorkersBehindADnsNameServeAndAnAddressAddedToTheNameGetsWork()
    {
        if (Dnsmasq.Reason() is { } reason) Assert.Fail(reason); // prepare.sh installs it wherever the netns tests run

        using var lab = new NetnsLab(4); // workers in 0, 1 and 2; the server in 3
        using var dns = new Dnsmasq(lab.HostAddress, _fx.Directory, Name, [lab.Addresses[0], lab.Addresses[1]]);
        lab.UseNameserver(3, lab.HostAddress);
        using var w0 = WorkerProcess.Under(lab.Prefix(0), lab.Addresses[0] + ":7000", _fx.TokenFile, _fx.NewCacheDir());
        using var w1 = WorkerProcess.Under(lab.Prefix(1), lab.Addresses[1] + ":7000", _fx.TokenFile, _fx.NewCacheDir());
        using var w2 = WorkerProcess.Under(lab.Prefix(2), lab.Addresses[2] + ":7000", _fx.TokenFile, _fx.NewCacheDir());

        var model = ClusterServingTests.Model(51);
        string path = _fx.Save(model, "m.onnx");
        string cluster = Path.Combine(_fx.Directory, "cluster.json");
        File.WriteAllText(cluster, $$"""
            {"nodes": [
              {"name": "workers", "address": "dns:{{Name}}:7000", "memoryBytes": 1000000000},
              {"name": "nobody", "address": "dns:nobody.tessera.test:7000", "memoryBytes": 1000000000}]}
            """);
        using var serve = ServeProcess.Under(lab.Prefix(3), "--model", path, "--cluster", cluster, "--strategy", "data", "--token-file", _fx.TokenFile, "--http", lab.Addresses[3] + ":0");
        await serve.WaitUntilListeningAsync();
        var clock = Stopwatch.StartNew();
        while ((int)(await serve.Client.GetAsync("/v2/health/ready")).StatusCode != 200 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100);
        Assert.True((int)(await serve.Client.GetAsync("/v2/health/ready")).StatusCode == 200, serve.Log);
        Assert.Contains("cannot resolve dns:nobody.tessera.test:7000", serve.Log);

        var x = ClusterFixture.Random([3, 16], 52);
        var expected = ClusterFixture.Reference(model, "x", x, "y").ToArray<float>();
        for (int i = 0; i < 4; i++)
        {
            var (status, body) = await InferAsync(serve, x);
            Assert.True(status == 200, body);
            Assert.Equal(expected, Wire.Fp32Output(System.Text.Json.JsonDocument.Parse(body).RootElement, "y").ToArray<float>());
        }

        Assert.True(await AnsweredAsync(serve, w2.Address) <= 0);
        dns.SetHosts(Name, [lab.Addresses[0], lab.Addresses[1], lab.Addresses[2]]);
        clock.Restart();
        while (await AnsweredAsync(serve, w2.Address) is not > 0 && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            var (status, body) = await InferAsync(serve, x);
            Assert.True(status == 200, body);
        }

        Assert.True(await AnsweredAsync(serve, w2.Address) > 0, serve.Log);
        Assert.True(w2.WaitForLog($"from {lab.Addresses[3]}:"), w2.Log); // the server reached it from its own namespace
    }

    private static async Task<(int Status, string Body)> InferAsync(ServeProcess serve, Tessera.Tensors.Tensor x)
    {
        using var content = new StringContent(Wire.Request(Wire.Fp32Input("x", x)));
        using var response = await serve.Client.PostAsync("/v2/models/m/infer", content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>tessera_worker_requests_total of the worker at <paramref name="address"/>; -1 while it is not a member.</summary>
    private static async Task<double> AnsweredAsync(ServeProcess serve, string address)
    {
        string metrics = await serve.Client.GetStringAsync("/metrics");
        string? line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("tessera_worker_requests_total{", StringComparison.Ordinal) && l.Contains($"address=\"{address}\"", StringComparison.Ordinal));
        return line is null ? -1 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
