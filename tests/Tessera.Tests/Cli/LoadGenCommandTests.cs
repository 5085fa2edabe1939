using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>`tessera loadgen` as a real process against a real HTTP server (<see cref="FakeKServeServer"/>).</summary>
public sealed class LoadGenCommandTests
{
    private static JsonArray Inputs() => JsonNode.Parse("""
        [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}, {"name": "ids", "datatype": "INT64", "shape": [1, 3]}]
        """)!.AsArray();

    private static CliProcess.Result LoadGen(FakeKServeServer server, params string[] more) =>
        CliProcess.Run(["loadgen", "--url", server.Url.ToString(), "--model", "echo", .. more]);

    private static JsonElement Json(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public async Task JsonRequestsAreValidAndEveryAnsweredOneIsCounted()
    {
        await using var server = await FakeKServeServer.StartAsync("echo", Inputs());
        var r = LoadGen(server, "--shape", "input=2x4", "--concurrency", "2", "--duration", "0.5", "--warmup", "0", "--priority", "1", "--json");
        Assert.Null(server.Failure);
        var json = Json(r);
        long requests = json.GetProperty("requests").GetInt64();
        Assert.True(requests > 0);
        Assert.Equal(0, json.GetProperty("errors").GetInt64());
        Assert.Equal(requests, json.GetProperty("ok").GetInt64());

        // Without warmup the server saw exactly the measured requests plus the one probe that checks the request first.
        Assert.Equal(requests + 1, server.Infers);
        Assert.Equal(server.Infers, server.Answered);
        Assert.True(json.GetProperty("throughput_per_s").GetDouble() > 0);
        double p50 = json.GetProperty("p50_ms").GetDouble(), p90 = json.GetProperty("p90_ms").GetDouble(), p99 = json.GetProperty("p99_ms").GetDouble();
        Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= json.GetProperty("max_ms").GetDouble());
        Assert.Equal(requests, json.GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()));

        // The body: JSON with flat data of the given shape, token ids in the default random range, and the priority.
        var (contentType, headerLength, body) = server.Requests.First();
        Assert.Equal("application/json", contentType);
        Assert.Null(headerLength);
        var sent = JsonNode.Parse(body)!;
        Assert.Equal(8, sent["inputs"]![0]!["data"]!.AsArray().Count);
        Assert.Equal("[2,4]", sent["inputs"]![0]!["shape"]!.ToJsonString());
        Assert.All(sent["inputs"]![1]!["data"]!.AsArray(), v => Assert.InRange((long)v!, 0, 99));
        Assert.Equal(1, (int)sent["parameters"]!["priority"]!);

        // Progress goes to stderr (not a terminal here: plain lines), the report to stdout.
        Assert.StartsWith("loadgen: echo: 2 workers, JSON bodies of", r.Stderr);
    }

    [Fact]
    public async Task BinaryRequestsUseTheBinaryDataExtension()
    {
        await using var server = await FakeKServeServer.StartAsync("echo", Inputs());
        var json = Json(LoadGen(server, "--shape", "input=3x4", "--binary", "--duration", "0.3", "--warmup", "0.1", "--json"));
        Assert.Equal(0, json.GetProperty("errors").GetInt64());
        Assert.True(json.GetProperty("ok").GetInt64() > 0);
        Assert.Equal(server.Infers, server.Answered);
        var (contentType, headerLength, body) = server.Requests.First();
        Assert.Equal("application/octet-stream", contentType);
        int n = int.Parse(headerLength!);
        Assert.Equal(n + (12 * 4) + (3 * 8), body.Length);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(body, 0, n))!;
        Assert.Equal(48, (int)header["inputs"]![0]!["parameters"]!["binary_data_size"]!);
        Assert.True((bool)header["outputs"]![0]!["parameters"]!["binary_data"]!);
    }

    [Fact]
    public async Task ErrorsAreCountedByStatus()
    {
        await using var server = await FakeKServeServer.StartAsync("echo", Inputs(), failEvery: 3);
        var r = LoadGen(server, "--shape", "input=1x4", "--concurrency", "3", "--duration", "0.5", "--warmup", "0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var ok = long.Parse(Between(r.Stdout, "requests     ", " (").Replace(",", ""));
        Assert.Contains("errors       503: ", r.Stdout);
        long errors503 = long.Parse(Between(r.Stdout, "errors       503: ", "\n").Trim().Replace(",", ""));
        Assert.Equal(server.Infers - 1, ok);
        Assert.Equal(server.Infers / 3, errors503);
        Assert.Contains("latency ms   p50 ", r.Stdout);
        Assert.Contains("histogram    ms", r.Stdout);
    }

    [Fact]
    public async Task LatencyIncludesTheServersDelayAndTheLoopIsClosed()
    {
        await using var server = await FakeKServeServer.StartAsync("echo", Inputs(), delay: TimeSpan.FromMilliseconds(25));
        var json = Json(LoadGen(server, "--shape", "input=1x4", "--concurrency", "2", "--duration", "0.5", "--warmup", "0", "--json"));

        // Each answer takes at least 25 ms, and each of the 2 workers has one request in flight at a time.
        Assert.True(json.GetProperty("p50_ms").GetDouble() >= 25 * 0.99, json.ToString());
        Assert.True(json.GetProperty("requests").GetInt64() <= 2 * ((500 / 25) + 1), json.ToString());
    }

    [Fact]
    public async Task MistakesAreOneLineErrors()
    {
        await using var server = await FakeKServeServer.StartAsync("echo", Inputs());
        AssertOneLineError(CliProcess.Run("loadgen", "--url", server.Url.ToString(), "--model", "nope", "--duration", "0.2"), "has no model 'nope' (404: unknown model 'nope')");
        AssertOneLineError(CliProcess.Run("loadgen", "--url", $"http://127.0.0.1:{UnusedPort()}", "--model", "echo", "--duration", "0.2"), "cannot reach http://127.0.0.1:");
        AssertOneLineError(CliProcess.Run("loadgen", "--url", "ftp://example", "--model", "echo"), "must be an absolute http:// or https:// URL");
        AssertOneLineError(LoadGen(server, "--concurrency", "0"), "--concurrency must be 1 to 10000");
        AssertOneLineError(LoadGen(server, "--duration", "0"), "--duration must be more than 0");
        AssertOneLineError(LoadGen(server, "--warmup", "-1"), "--warmup must be 0");
        AssertOneLineError(LoadGen(server, "--duration", "0.2"), "input 'input' has the symbolic dimension '-1'");
        AssertOneLineError(LoadGen(server, "--shape", "nope=1x4", "--duration", "0.2"), "the model has no input named 'nope'");
        AssertOneLineError(LoadGen(server, "--shape", "input=2x5", "--duration", "0.2"), "the server rejected the request (400): input 'input': shape [2,5] does not match [-1,4]");
        Assert.Equal(1, server.Infers); // only the rejected probe reached the server
    }

    [Fact]
    public void HistogramPercentilesAreWithinABucketOfTheExactOnes()
    {
        var random = new Random(4);
        var h = new Tessera.Cli.LoadGen.LatencyHistogram();
        long[] samples = [.. Enumerable.Range(0, 10_000).Select(_ => (long)Math.Exp(random.NextDouble() * 18))];
        foreach (long s in samples) h.Record(s);
        Array.Sort(samples);
        foreach (double p in new[] { 0.5, 0.9, 0.99, 1.0 })
        {
            long exact = samples[(int)Math.Ceiling(p * samples.Length) - 1];
            Assert.InRange(h.Percentile(p), exact * 0.992, (exact * 1.008) + 1);
        }

        Assert.Equal(samples[^1], h.MaxNs);
        Assert.Equal(samples.Length, h.DisplayCounts.Sum());
        for (int i = 0; i < 3000; i++)
        {
            var (low, high) = Tessera.Cli.LoadGen.LatencyHistogram.Bounds(i);
            Assert.Equal(i, Tessera.Cli.LoadGen.LatencyHistogram.FineIndex(low));
            Assert.Equal(i, Tessera.Cli.LoadGen.LatencyHistogram.FineIndex(high - 1));
        }
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Between(string text, string start, string end)
    {
        int i = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[i..text.IndexOf(end, i, StringComparison.Ordinal)];
    }

    private static void AssertOneLineError(CliProcess.Result r, string expectedFragment)
    {
        Assert.NotEqual(0, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.StartsWith("tessera: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
        Assert.DoesNotContain("   at ", r.Stdout + r.Stderr);
    }
}
