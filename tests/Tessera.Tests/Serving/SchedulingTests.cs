using System.Net;
using System.Text.RegularExpressions;
using Tessera.Serving.Repository;
using Tessera.Serving.Scheduling;

namespace Tessera.Tests.Serving;

/// <summary>Priorities, the bounded queue, timeouts, disconnects and the replica policies, over real HTTP.</summary>
public sealed class SchedulingTests
{
    [Fact]
    public async Task HighPriorityRequestsOvertakeQueuedLowPriorityOnes()
    {
        var backend = new GatedBackend(1);
        await using var server = await StartAsync(backend, new SchedulerOptions());
        var first = Post(server, 1);
        await WaitUntil(() => backend.Started.Count == 1);
        var low = Post(server, 2);
        await WaitUntil(() => Queued(server) == 1);
        var high = Post(server, 3, "\"priority\":1");
        await WaitUntil(() => Queued(server) == 2);
        backend.Open();
        foreach (var r in await Task.WhenAll(first, low, high)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal([1f, 3f, 2f], backend.Started.Select(s => s.Id));
    }

    [Fact]
    public async Task AFullQueueAnswers503WithRetryAfterAndLosesNothingAccepted()
    {
        var backend = new GatedBackend(1);
        await using var server = await StartAsync(backend, new SchedulerOptions { MaxQueueSize = 1 });
        var running = Post(server, 1);
        await WaitUntil(() => backend.Started.Count == 1);
        var queued = Post(server, 2);
        await WaitUntil(() => Queued(server) == 1);
        using var rejected = await Post(server, 3);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), rejected.Headers.RetryAfter?.Delta);
        Assert.Contains("\"error\"", await rejected.Content.ReadAsStringAsync());
        backend.Open();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await queued).StatusCode);
        Assert.Contains("outcome=\"rejected\"} 1", await server.MetricsAsync());
    }

    [Fact]
    public async Task ARequestThatTimesOutInTheQueueIs504AndNeverRuns()
    {
        var backend = new GatedBackend(1);
        await using var server = await StartAsync(backend, new SchedulerOptions());
        var running = Post(server, 1);
        await WaitUntil(() => backend.Started.Count == 1);
        using var byParameter = await Post(server, 2, "\"timeout\":100000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, byParameter.StatusCode);
        Assert.Contains("timed out after 100 ms in the queue", await byParameter.Content.ReadAsStringAsync());

        var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/m/infer") { Content = new StringContent(Body(3, "")) };
        request.Headers.Add("Tessera-Timeout-Ms", "50");
        using var byHeader = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.GatewayTimeout, byHeader.StatusCode);

        backend.Open();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(server, 4)).StatusCode);
        Assert.Equal([1f, 4f], backend.Started.Select(s => s.Id));
        Assert.Contains("outcome=\"timeout\"} 2", await server.MetricsAsync());
    }

    [Fact]
    public async Task WorkForAClientThatDisconnectedIsDropped()
    {
        var backend = new GatedBackend(1);
        await using var server = await StartAsync(backend, new SchedulerOptions());
        var running = Post(server, 1);
        await WaitUntil(() => backend.Started.Count == 1);
        using var cancel = new CancellationTokenSource();
        var gone = server.Client.PostAsync("/v2/models/m/infer", new StringContent(Body(2, "")), cancel.Token);
        await WaitUntil(() => Queued(server) == 1);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        await WaitUntil(() => Queued(server) == 0);
        backend.Open();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(server, 3)).StatusCode);
        Assert.Equal([1f, 3f], backend.Started.Select(s => s.Id));
        await WaitUntil(async () => (await server.MetricsAsync()).Contains("outcome=\"cancelled\"} 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RoundRobinGivesReplicasBatchesInTurn()
    {
        var backend = new GatedBackend(3, open: true);
        await using var server = await StartAsync(backend, new SchedulerOptions { Policy = SchedulingPolicyKind.RoundRobin }, replicas: 3);
        for (int i = 1; i <= 7; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Post(server, i)).StatusCode);
        }

        Assert.Equal([0, 1, 2, 0, 1, 2, 0], backend.Started.Select(s => s.Replica));
    }

    [Fact]
    public async Task DynamicSchedulingSendsWorkToTheReplicaMeasuredFastest()
    {
        var backend = new GatedBackend(2, true, 0, 200);
        await using var server = await StartAsync(backend, new SchedulerOptions { Policy = SchedulingPolicyKind.Dynamic }, replicas: 2);
        for (int i = 1; i <= 8; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Post(server, i)).StatusCode);
        }

        // Each replica is tried once to measure it; from then on the fast one takes the work.
        Assert.Equal([0, 1, 0, 0, 0, 0, 0, 0], backend.Started.Select(s => s.Replica));
        string metrics = await server.MetricsAsync();
        double fast = RowsPerSecond(metrics, 0), slow = RowsPerSecond(metrics, 1);
        Assert.True(fast > slow && slow > 0, $"replica speeds {fast} and {slow} rows/s");
    }

    private static double RowsPerSecond(string metrics, int replica)
    {
        var match = Regex.Match(metrics, $"tessera_replica_rows_per_second\\{{model=\"m\",version=\"1\",replica=\"{replica}\"\\}} (\\S+)");
        Assert.True(match.Success, metrics);
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<TestServer> StartAsync(GatedBackend backend, SchedulerOptions scheduler, int replicas = 1) =>
        TestServer.StartAsync(r => r.Add("m", 1, backend, new ModelConfig { Replicas = replicas, Scheduler = scheduler }));

    private static string Body(int id, string parameters) =>
        $"{{\"inputs\":[{{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[{id},0,0,0]}}],\"parameters\":{{{parameters}}}}}";

    private static Task<HttpResponseMessage> Post(TestServer server, int id, string parameters = "") =>
        server.Client.PostAsync("/v2/models/m/infer", new StringContent(Body(id, parameters)));

    private static int Queued(TestServer server) => server.Server.Models.Find("m", null).Scheduler.Snapshot().QueuedPerLevel.Sum();

    private static Task WaitUntil(Func<bool> condition) => WaitUntil(() => Task.FromResult(condition()));

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 30 s");
            await Task.Delay(10);
        }
    }
}
