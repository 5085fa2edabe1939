using System.Text.Json;
using Grpc.Core;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;
using ServingConfig = Tessera.Serving.Repository.ModelConfig;

namespace Tessera.Tests.Serving;

/// <summary>
/// Triton's model repository extension on gRPC and REST: the index, loading, reloading and unloading models of a
/// repository folder while the server runs, ensembles following their members, and unloading without losing the
/// requests a model accepted.
/// </summary>
public sealed class RepositoryControlTests : IDisposable
{
    private static readonly Tensor s_x = Tensor.FromArray(new[] { 0.5f, -1f, 2f, 0.25f }, 1, 4);
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-repository-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ModelsAreIndexedLoadedReloadedAndUnloadedOnGrpcAndRest()
    {
        Save("a", 1, TestModels.Affine(1f));
        Save("b", 1, TestModels.Affine(-0.5f));
        await using var server = await TestServer.StartRepositoryAsync(_dir, repositoryControl: true);
        var grpc = server.Grpc;
        Assert.Contains("model_repository", (await grpc.ServerMetadataAsync(new ServerMetadataRequest())).Extensions);
        Assert.Equal(["a/1/READY", "b/1/READY"], await IndexAsync(server));

        await grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "b" });
        Assert.Equal(["a/1/READY", "b//UNAVAILABLE/unloaded"], await IndexAsync(server));
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.ModelInferAsync(Request("b")).ResponseAsync)).StatusCode);
        Assert.Equal(404, (await server.GetJsonAsync("/v2/models/b/ready")).Status);
        await grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "b" }); // unloading is idempotent

        Assert.Equal(200, (await server.PostJsonAsync("/v2/repository/models/b/load", "")).Status);
        Assert.Equal(Expected(TestModels.Affine(-0.5f)), await InferAsync(server, "b"));

        // A new version folder and a changed version 1: a reload serves both, requests without a version get 2.
        Save("a", 2, TestModels.Affine(2f));
        Save("a", 1, TestModels.Affine(3f));
        await grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "a" });
        Assert.Equal(["a/1/READY", "a/2/READY", "b/1/READY"], await IndexAsync(server));
        Assert.Equal(Expected(TestModels.Affine(2f)), await InferAsync(server, "a"));
        Assert.Equal(Expected(TestModels.Affine(3f)), await InferAsync(server, "a", "1"));
        Directory.Delete(Path.Combine(_dir, "a", "1"), recursive: true);
        await grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "a" });
        Assert.Equal(["2"], (await grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "a" })).Versions);

        // A folder that is not a model: the load fails, the index says why; an unknown name is NOT_FOUND.
        Directory.CreateDirectory(Path.Combine(_dir, "broken"));
        var (status, error) = await server.PostJsonAsync("/v2/repository/models/broken/load", "{}");
        Assert.Equal(400, status);
        Assert.Contains("has no version folder", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, (await Fails(grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "broken" }).ResponseAsync)).StatusCode);
        var index = await grpc.RepositoryIndexAsync(new RepositoryIndexRequest());
        Assert.Contains("has no version folder", index.Models.Single(m => m.Name == "broken").Reason, StringComparison.Ordinal);
        Assert.Equal(["a", "b"], (await grpc.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true })).Models.Select(m => m.Name));
        var (_, readyOnly) = await server.PostJsonAsync("/v2/repository/index", "{\"ready\": true}");
        Assert.Equal(["a", "b"], readyOnly.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(404, (await server.PostJsonAsync("/v2/repository/models/ghost/load", "")).Status);
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "ghost" }).ResponseAsync)).StatusCode);

        // Parameters Tessera does not take, a wrong repository name, bad bodies: each refused, the server goes on.
        var withConfig = new RepositoryModelLoadRequest { ModelName = "a", Parameters = { ["config"] = new ModelRepositoryParameter { StringParam = "{}" } } };
        Assert.Contains("\"config\" is not supported", (await Fails(grpc.RepositoryModelLoadAsync(withConfig).ResponseAsync)).Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.RepositoryIndexAsync(new RepositoryIndexRequest { RepositoryName = "elsewhere" }).ResponseAsync)).StatusCode);
        Assert.NotEmpty((await grpc.RepositoryIndexAsync(new RepositoryIndexRequest { RepositoryName = Path.GetFileName(_dir) })).Models);
        Assert.Equal(400, (await server.PostJsonAsync("/v2/repository/index", "[1")).Status);
        Assert.Equal(400, (await server.PostJsonAsync("/v2/repository/models/b/unload", "{\"parameters\": {\"unload_dependents\": 1}}")).Status);
        Assert.Equal(Expected(TestModels.Affine(-0.5f)), await InferAsync(server, "b"));
    }

    [Fact]
    public async Task LoadingAndUnloadingAreRefusedUnlessTheServerAllowsThem()
    {
        Save("a", 1, TestModels.Affine());
        await using var server = await TestServer.StartRepositoryAsync(_dir, repositoryControl: false);
        var e = await Fails(server.Grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "a" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("--repository-control", e.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(403, (await server.PostJsonAsync("/v2/repository/models/a/load", "")).Status);
        Assert.Equal(["a/1/READY"], await IndexAsync(server));
        Assert.Equal(Expected(TestModels.Affine()), await InferAsync(server, "a"));
    }

    [Fact]
    public async Task EnsemblesFollowTheirMembers()
    {
        Save("a", 1, TestModels.Affine(1f));
        Save("b", 1, TestModels.Affine(-0.5f));
        Directory.CreateDirectory(Path.Combine(_dir, "avg"));
        File.WriteAllText(Path.Combine(_dir, "avg", "config.json"), "{\"ensemble\": {\"members\": [\"a\", \"b\"], \"output\": \"y\", \"aggregation\": \"mean\"}}");
        await using var server = await TestServer.StartRepositoryAsync(_dir, repositoryControl: true);
        var grpc = server.Grpc;

        var refused = await Fails(grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "a" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("'avg'", refused.Status.Detail, StringComparison.Ordinal);

        // Reloading a member rebuilds the ensemble over the member's new version.
        Save("b", 1, TestModels.Affine(4f));
        await grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "b" });
        float[] ya = Expected(TestModels.Affine(1f)), yb = Expected(TestModels.Affine(4f));
        Assert.Equal(ya.Zip(yb, (p, q) => (float)((p + (double)q) / 2)), await InferAsync(server, "avg"));

        var dependents = new RepositoryModelUnloadRequest { ModelName = "a", Parameters = { ["unload_dependents"] = new ModelRepositoryParameter { BoolParam = true } } };
        await grpc.RepositoryModelUnloadAsync(dependents);
        Assert.Equal(["a//UNAVAILABLE/unloaded", "avg//UNAVAILABLE/unloaded with its member 'a'", "b/1/READY"], await IndexAsync(server));
        Assert.Equal(400, (await server.PostJsonAsync("/v2/repository/models/avg/load", "")).Status); // its member is not loaded
        Assert.Equal(200, (await server.PostJsonAsync("/v2/repository/models/a/load", "")).Status);
        Assert.Equal(200, (await server.PostJsonAsync("/v2/repository/models/avg/load", "")).Status);
        Assert.Equal(ya.Zip(yb, (p, q) => (float)((p + (double)q) / 2)), await InferAsync(server, "avg"));
    }

    [Fact]
    public async Task UnloadingRunsWhatTheModelAcceptedAndTakesNoMore()
    {
        var gated = new GatedBackend(1);
        var config = new ServingConfig { Scheduler = new SchedulerOptions { MaxBatchSize = 0 } };
        await using var server = await TestServer.StartAsync(r => r.Add("gated", 1, gated, config), grpc: true, repositoryControl: true);
        var grpc = server.Grpc;
        var accepted = Enumerable.Range(1, 3).Select(i => grpc.ModelInferAsync(Request("gated", i)).ResponseAsync).ToArray();
        // One runs (held by the gate), two wait in the queue: observed, since a fixed pause may not be enough on a loaded machine.
        var scheduler = server.Server.Models.Find("gated", null).Scheduler;
        for (int i = 0; i < 2000 && (gated.Started.IsEmpty || scheduler.Snapshot().QueuedPerLevel.Sum() < 2); i++) await Task.Delay(5);
        Assert.Equal(2, scheduler.Snapshot().QueuedPerLevel.Sum());

        var unload = grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "gated" }).ResponseAsync;
        await Task.Delay(200);
        Assert.False(unload.IsCompleted);
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.ModelInferAsync(Request("gated", 9)).ResponseAsync)).StatusCode);
        gated.Open();
        await unload;
        foreach (var answer in accepted) Assert.Single((await answer).RawOutputContents);
        Assert.Equal([1f, 2f, 3f], gated.Started.Select(s => s.Id).Order());
    }

    [Fact]
    public async Task RequestsDuringReloadsAreAllAnswered()
    {
        Save("a", 1, TestModels.Affine(1f));
        await using var server = await TestServer.StartRepositoryAsync(_dir, repositoryControl: true);
        float[] expected = Expected(TestModels.Affine(1f));
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 3).Select(async k =>
        {
            int answered = 0;
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(expected, k == 0 ? await InferAsync(server, "a") : await GrpcInferAsync(server, "a"));
                answered++;
            }

            return answered;
        }).ToArray();
        for (int i = 0; i < 5; i++)
        {
            await server.Grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "a" });
        }

        await stop.CancelAsync();
        Assert.All(await Task.WhenAll(clients), n => Assert.True(n > 0));
    }

    [Fact]
    public async Task AReloadWaitsForARequestStillSendingItsBodyToTheOldVersion()
    {
        Save("a", 1, TestModels.Affine(1f));
        await using var server = await TestServer.StartRepositoryAsync(_dir, repositoryControl: true);
        byte[] body = System.Text.Encoding.UTF8.GetBytes(Wire.Request(Wire.Fp32Input("x", s_x)));
        var rest = new TaskCompletionSource();
        var slow = new SlowContent(body, rest.Task);
        var request = server.Client.PostAsync("/v2/models/a/infer", slow);
        await slow.HalfSent; // the server has found version 1 and is reading the body

        Save("a", 1, TestModels.Affine(5f));
        var reload = server.Grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "a" }).ResponseAsync;
        float[] reloaded = Expected(TestModels.Affine(5f));
        while (!(await InferAsync(server, "a")).SequenceEqual(reloaded)) await Task.Delay(20); // new requests reach the new version
        await Task.Delay(300);
        Assert.False(reload.IsCompleted); // the old version still has a request using it
        rest.SetResult();
        using var response = await request;
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Equal(Expected(TestModels.Affine(1f)), Wire.Fp32Output(JsonDocument.Parse(text).RootElement, "y").ToArray<float>());
        await reload;
    }

    private void Save(string name, long version, OnnxModel model)
    {
        string dir = Path.Combine(_dir, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        ModelWriter.Save(model, Path.Combine(dir, "model.onnx"));
    }

    private static float[] Expected(OnnxModel model) =>
        new InferenceSession(model).Run(new Dictionary<string, Tensor> { ["x"] = s_x })["y"].ToArray<float>();

    private static ModelInferRequest Request(string model, float first = 0.5f)
    {
        var request = GrpcApiTests.Request(model, "x", "FP32", [1, 4]);
        float[] x = s_x.ToArray<float>();
        x[0] = first;
        request.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(Wire.Bytes(x)));
        return request;
    }

    private static async Task<float[]> InferAsync(TestServer server, string model, string? version = null)
    {
        string path = version is null ? $"/v2/models/{model}/infer" : $"/v2/models/{model}/versions/{version}/infer";
        var (status, body) = await server.PostJsonAsync(path, Wire.Request(Wire.Fp32Input("x", s_x)));
        Assert.True(status == 200, body.ToString());
        return Wire.Fp32Output(body, "y").ToArray<float>();
    }

    private static async Task<float[]> GrpcInferAsync(TestServer server, string model)
    {
        var answer = await server.Grpc.ModelInferAsync(Request(model));
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(answer.RawOutputContents[0].Span).ToArray();
    }

    /// <summary>The index as name/version/state[/reason] lines, over REST and checked equal to gRPC's.</summary>
    private static async Task<string[]> IndexAsync(TestServer server)
    {
        var (status, rest) = await server.PostJsonAsync("/v2/repository/index", "");
        Assert.Equal(200, status);
        string[] lines = [.. rest.EnumerateArray().Select(m => Line(m.GetProperty("name").GetString()!,
            m.TryGetProperty("version", out var v) ? v.GetString()! : "", m.GetProperty("state").GetString()!, m.GetProperty("reason").GetString()!))];
        var grpc = await server.Grpc.RepositoryIndexAsync(new RepositoryIndexRequest());
        Assert.Equal(lines, grpc.Models.Select(m => Line(m.Name, m.Version, m.State, m.Reason)));
        return lines;
    }

    private static string Line(string name, string version, string state, string reason) =>
        reason.Length == 0 ? $"{name}/{version}/{state}" : $"{name}/{version}/{state}/{reason}";

    /// <summary>A request body sent in two halves, the second when the test says so.</summary>
    private sealed class SlowContent(byte[] body, Task rest) : HttpContent
    {
        private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task HalfSent => _halfSent.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await stream.FlushAsync();
            _halfSent.SetResult();
            await rest;
            await stream.WriteAsync(body.AsMemory(body.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    private static async Task<RpcException> Fails<T>(Task<T> call) => await Assert.ThrowsAsync<RpcException>(() => call);
}
