using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tessera.Tests.Cli;

/// <summary>
/// A small KServe v2 server on a real loopback port (Kestrel, port 0) for testing the load generator while the real
/// server is built elsewhere: GET /v2/models/{name} answers the given metadata; POST .../infer checks every input
/// against it (datatype, shape, data length, for JSON and for binary bodies), answers 400 with {"error"} when wrong,
/// and otherwise echoes the first input as the output. It can delay answers and fail every n-th request with 503.
/// </summary>
internal sealed class FakeKServeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _model;
    private readonly JsonArray _inputs;
    private int _infers;
    private int _answered;

    private FakeKServeServer(WebApplication app, string model, JsonArray inputs)
    {
        _app = app;
        _model = model;
        _inputs = inputs;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Infer requests received (valid or not).</summary>
    public int Infers => Volatile.Read(ref _infers);

    /// <summary>Infer requests answered 200.</summary>
    public int Answered => Volatile.Read(ref _answered);

    public TimeSpan Delay { get; init; }

    /// <summary>The first exception the server itself threw (a bug in this class, not a client mistake).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>When above 0, every n-th infer request (counting from 1) is answered 503.</summary>
    public int FailEvery { get; init; }

    /// <summary>The first infer requests: content type, Inference-Header-Content-Length, body.</summary>
    public ConcurrentQueue<(string? ContentType, string? HeaderLength, byte[] Body)> Requests { get; } = new();

    public static async Task<FakeKServeServer> StartAsync(string model, JsonArray inputs, TimeSpan delay = default, int failEvery = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeKServeServer(app, model, inputs) { Delay = delay, FailEvery = failEvery };
        app.MapGet("/v2/models/{name}", (string name) => name == model
            ? Results.Text(new JsonObject { ["name"] = model, ["versions"] = new JsonArray("1"), ["platform"] = "onnx", ["inputs"] = inputs.DeepClone(), ["outputs"] = new JsonArray(new JsonObject { ["name"] = "output", ["datatype"] = "FP32", ["shape"] = new JsonArray(-1) }) }.ToJsonString(), "application/json")
            : Results.Json(new { error = $"unknown model '{name}'" }, statusCode: 404));
        app.MapPost("/v2/models/{name}/infer", async (HttpContext context, string name) =>
        {
            try
            {
                await server.InferAsync(context, name);
            }
            catch (Exception e)
            {
                server.Failure ??= e;
                throw;
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task InferAsync(HttpContext context, string name)
    {
        int n = Interlocked.Increment(ref _infers);
        var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        byte[] bytes = body.ToArray();
        string? headerLength = context.Request.Headers["Inference-Header-Content-Length"].FirstOrDefault();
        if (Requests.Count < 20)
        {
            Requests.Enqueue((context.Request.ContentType, headerLength, bytes));
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        if (name != _model)
        {
            await Error(context, 404, $"unknown model '{name}'");
            return;
        }

        if (FailEvery > 0 && n % FailEvery == 0)
        {
            context.Response.Headers.RetryAfter = "1";
            await Error(context, 503, "queue full");
            return;
        }

        string? problem = Check(bytes, headerLength, out var echo);
        if (problem is not null)
        {
            await Error(context, 400, problem);
            return;
        }

        Interlocked.Increment(ref _answered);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["model_name"] = _model, ["outputs"] = new JsonArray(echo) }.ToJsonString());
    }

    private static Task Error(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = message });
    }

    /// <summary>Null when every input matches the metadata; the first input comes back (as JSON, without data for binary) in <paramref name="echo"/>.</summary>
    private string? Check(byte[] bytes, string? headerLength, out JsonObject? echo)
    {
        echo = null;
        int jsonLength = bytes.Length;
        if (headerLength is not null && (!int.TryParse(headerLength, out jsonLength) || jsonLength > bytes.Length))
        {
            return "bad Inference-Header-Content-Length";
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 0, jsonLength));
        }
        catch (JsonException e)
        {
            return "malformed JSON: " + e.Message;
        }

        var inputs = root?["inputs"] as JsonArray;
        if (inputs is null || inputs.Count != _inputs.Count)
        {
            return $"expected {_inputs.Count} inputs";
        }

        long binaryBytes = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var got = inputs[i]!;
            var want = _inputs[i]!;
            if ((string?)got["name"] != (string?)want["name"] || (string?)got["datatype"] != (string?)want["datatype"])
            {
                return $"input {i}: expected {want["name"]} {want["datatype"]}, got {got["name"]} {got["datatype"]}";
            }

            long[] shape = [.. got["shape"]!.AsArray().Select(d => (long)d!)];
            long[] declared = [.. want["shape"]!.AsArray().Select(d => (long)d!)];
            if (shape.Length != declared.Length || shape.Where((d, k) => declared[k] >= 0 && declared[k] != d).Any())
            {
                return $"input '{got["name"]}': shape [{string.Join(",", shape)}] does not match [{string.Join(",", declared)}]";
            }

            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (got["parameters"]?["binary_data_size"] is { } size)
            {
                long elementSize = (string?)got["datatype"] switch { "FP64" or "INT64" => 8, "FP32" or "INT32" => 4, "FP16" => 2, _ => 1 };
                if ((long)size != count * elementSize) return $"input '{got["name"]}': binary_data_size {size} for {count} elements";
                binaryBytes += (long)size;
            }
            else if (got["data"] is not JsonArray data || data.Count != count)
            {
                return $"input '{got["name"]}': data length does not match shape";
            }

            if (i == 0)
            {
                echo = new JsonObject { ["name"] = "output", ["datatype"] = got["datatype"]!.DeepClone(), ["shape"] = got["shape"]!.DeepClone() };
                if (got["data"] is { } d) echo["data"] = d.DeepClone();
            }
        }

        return headerLength is not null && jsonLength + binaryBytes != bytes.Length ? $"binary body has {bytes.Length - jsonLength} bytes, expected {binaryBytes}" : null;
    }
}
