using Tessera.Tests.Cluster;

namespace Tessera.Tests.Serving;

/// <summary>The real `tessera serve --repository DIR --workers N` process over real HTTP, start to clean stop.</summary>
public sealed class ServeRepositoryCommandTests
{
    [Fact]
    public async Task ARepositoryOfTwoModelsOnLocalWorkersGivesTheSessionsBitsPerWorkerMetricsAndStopsCleanly()
    {
        using var fx = new ClusterFixture();
        var (data, pipe) = (ClusterServingTests.Model(111), ClusterServingTests.Model(113));
        string repository = ClusterServer.WriteRepository(Path.Combine(fx.Directory, "models"),
            ("data", data, "{\"strategy\": \"data\", \"workers\": [0, 1], \"scheduling\": \"round_robin\", \"max_batch_size\": 4}"),
            ("pipe", pipe, "{\"strategy\": \"pipeline\", \"workers\": [0, 1], \"max_batch_size\": 4}"));
        using var serve = new ServeProcess("--repository", repository, "--workers", "2", "--http", "127.0.0.1:0");
        await serve.WaitUntilListeningAsync();
        string[] workers = serve.LocalWorkerAddresses();
        Assert.Equal(2, workers.Length);

        for (int i = 0; i < 4; i++)
        {
            var x = ClusterFixture.Random([i + 1, 16], 120 + i);
            foreach (var (name, model) in new[] { ("data", data), ("pipe", pipe) })
            {
                using var content = new StringContent(Wire.Request(Wire.Fp32Input("x", x)));
                using var response = await serve.Client.PostAsync($"/v2/models/{name}/infer", content);
                var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                Assert.True(response.IsSuccessStatusCode, body.ToString());
                Assert.Equal(ClusterFixture.Reference(model, "x", x, "y").ToArray<float>(), Wire.Fp32Output(body, "y").ToArray<float>());
            }
        }

        // Round robin put "data" on both workers; the pipeline runs through both.
        string metrics = await serve.Client.GetStringAsync("/metrics");
        foreach (string w in workers)
        {
            Assert.Contains($"address=\"{w}\"}} 1", metrics);
            foreach (string model in new[] { "data", "pipe" })
            {
                Assert.Matches($"tessera_worker_requests_total\\{{model=\"{model}\",version=\"1\",worker=\"[^\"]+\",address=\"{System.Text.RegularExpressions.Regex.Escape(w)}\"\\}} [1-9]", metrics);
            }
        }

        Assert.Equal(0, await serve.TerminateAsync());
        foreach (string w in workers)
        {
            await ServeProcess.AssertNothingListensAsync(w);
        }
    }
}
