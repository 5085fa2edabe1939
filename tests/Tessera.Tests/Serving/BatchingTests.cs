using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Tessera.Cli.Conformance;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Serving.Backends;
using Tessera.Serving.Repository;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Serving;

/// <summary>Dynamic batching: concurrent requests are merged along the batch axis, run once, and split back bit for bit.</summary>
public sealed class BatchingTests
{
    [Fact]
    public async Task DenseRequestsOfDifferentSizesBatchedEqualUnbatchedRunsBitForBit()
    {
        string path = Path.Combine(TestPaths.Require(Path.Combine(TestPaths.OrtCases, "dense_b1")), "model.onnx");
        var session = InferenceSession.Load(path);
        var random = new Random(7);
        int[] rows = [1, 2, 3, 2];
        var inputs = rows.Select(r => Tensor.FromArray(Enumerable.Range(0, r * 100).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray(), r, 100)).ToArray();

        // The delay is far longer than the requests take to arrive: the batch leaves when its 8 rows are full.
        var config = new ModelConfig { Scheduler = new SchedulerOptions { MaxBatchSize = 8, MaxQueueDelayMicroseconds = 20_000_000 } };
        await using var server = await TestServer.StartAsync(r => r.Add("dense", 1, new LocalBackend(ModelReader.Load(path), "dense", 1, 1), config));
        var responses = await Task.WhenAll(inputs.Select(x => server.PostJsonAsync("/v2/models/dense/infer", Wire.Request(Wire.Fp32Input("input", x)))));

        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            var alone = session.Run(new Dictionary<string, Tensor> { ["input"] = inputs[i] })["output"];
            var served = Wire.Fp32Output(responses[i].Body, "output");
            Assert.Equal(alone.Shape, served.Shape);
            Assert.Equal(alone.ToArray<float>(), served.ToArray<float>());
        }

        string metrics = await server.MetricsAsync();
        Assert.Contains("tessera_batch_size_count{model=\"dense\",version=\"1\"} 1\n", metrics);
        Assert.Contains("tessera_batch_size_sum{model=\"dense\",version=\"1\"} 8\n", metrics);
        Assert.Contains("tessera_batch_size_bucket{model=\"dense\",version=\"1\",le=\"4\"} 0\n", metrics);
        Assert.Contains("tessera_batch_size_bucket{model=\"dense\",version=\"1\",le=\"8\"} 1\n", metrics);
        Assert.Contains("tessera_queue_seconds_count{model=\"dense\",version=\"1\"} 4\n", metrics);
        Assert.Contains("tessera_compute_seconds_count{model=\"dense\",version=\"1\"} 1\n", metrics);
        Assert.Contains("tessera_requests_total{model=\"dense\",version=\"1\",outcome=\"success\"} 4\n", metrics);
        Assert.Contains("# TYPE tessera_queue_seconds histogram\n", metrics);
        Assert.Contains("tessera_replica_inflight_batches{model=\"dense\",version=\"1\",replica=\"0\"} 0\n", metrics);
        Assert.Contains("tessera_queued_requests{model=\"dense\",version=\"1\",priority=\"1\"} 0\n", metrics);
    }

    [Fact]
    public async Task BertRequestsBatchedEqualUnbatchedRunsBitForBitAndOnnxRuntime()
    {
        string dir = TestPaths.Require(Path.Combine(TestPaths.OrtCases, "bert_b1_s16"));
        string path = Path.Combine(dir, "model.onnx");
        var ids = TensorProtoFormat.ReadFile(Path.Combine(dir, "test_data_set_0", "input_0.pb"));
        var mask = TensorProtoFormat.ReadFile(Path.Combine(dir, "test_data_set_0", "input_1.pb"));
        var ortPooled = ReferenceData.Read(Path.Combine(dir, "test_data_set_0", "output_1.pb"), DataType.Float32);
        var session = InferenceSession.Load(path);
        // Three different requests: the reference one, and two with other token ids.
        var requests = Enumerable.Range(0, 3).Select(k =>
        {
            var t = ids.Clone();
            var span = t.Span<long>();
            for (int j = 1; j < span.Length - 1 && k > 0; j++) span[j] = (span[j] * (k + 3) + j) % 1000;
            return t;
        }).ToArray();

        var config = new ModelConfig { Scheduler = new SchedulerOptions { MaxBatchSize = 3, MaxQueueDelayMicroseconds = 20_000_000 } };
        await using var server = await TestServer.StartAsync(r => r.Add("bert", 1, new LocalBackend(ModelReader.Load(path), "bert", 1, 1), config));
        var responses = await Task.WhenAll(requests.Select(t => server.PostJsonAsync("/v2/models/bert/infer",
            Wire.Request(Wire.Int64Input("input_ids", t), Wire.Int64Input("attention_mask", mask)))));

        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            var alone = session.Run(new Dictionary<string, Tensor> { ["input_ids"] = requests[i], ["attention_mask"] = mask });
            foreach (string output in new[] { "last_hidden_state", "pooler_output" })
            {
                Assert.Equal(alone[output].ToArray<float>(), Wire.Fp32Output(responses[i].Body, output).ToArray<float>());
            }
        }

        Assert.Null(TensorComparer.Compare(Wire.Fp32Output(responses[0].Body, "pooler_output"), ortPooled, 1e-4, 1e-3));
        Assert.Contains("tessera_batch_size_sum{model=\"bert\",version=\"1\"} 3\n", await server.MetricsAsync());
    }

    [Fact]
    public async Task APreferredBatchSizeLeavesWithoutWaitingForTheDelay()
    {
        var config = new ModelConfig { Scheduler = new SchedulerOptions { MaxBatchSize = 8, PreferredBatchSizes = [2], MaxQueueDelayMicroseconds = 60_000_000 } };
        await using var server = await TestServer.StartAsync(r => r.Add("affine", 1, new LocalBackend(TestModels.Affine(), "affine", 1, 1), config));
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 1, 4);
        var clock = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => server.PostJsonAsync("/v2/models/affine/infer", Wire.Request(Wire.Fp32Input("x", x)))));
        Assert.All(responses, r => Assert.Equal(200, r.Status));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}: the batch waited for the delay");
        Assert.Contains("tessera_batch_size_sum{model=\"affine\",version=\"1\"} 2\n", await server.MetricsAsync());
    }

    [Fact]
    public async Task RequestsThatCannotShareABatchRunSeparatelyAndCorrectly()
    {
        // Sequence lengths 16, 8, 16: the 8-token request cannot join the first batch, which leaves at once; every
        // request still gets exactly its own unbatched result.
        string dir = TestPaths.Require(Path.Combine(TestPaths.OrtCases, "bert_b1_s16"));
        string path = Path.Combine(dir, "model.onnx");
        var session = InferenceSession.Load(path);
        var config = new ModelConfig { Scheduler = new SchedulerOptions { MaxBatchSize = 4, MaxQueueDelayMicroseconds = 200_000 } };
        await using var server = await TestServer.StartAsync(r => r.Add("bert", 1, new LocalBackend(ModelReader.Load(path), "bert", 1, 1), config));
        int[] lengths = [16, 8, 16];
        var requests = lengths.Select((n, k) => Tensor.FromArray(Enumerable.Range(0, n).Select(j => (long)((j * 7 + k) % 500 + 1)).ToArray(), 1, n)).ToArray();
        var responses = await Task.WhenAll(requests.Select(t => server.PostJsonAsync("/v2/models/bert/infer",
            Wire.Request(Wire.Int64Input("input_ids", t), Wire.Int64Input("attention_mask", Tensor.FromArray(Enumerable.Repeat(1L, t.Length).ToArray(), 1, t.Length))))));
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            var mask = Tensor.FromArray(Enumerable.Repeat(1L, requests[i].Length).ToArray(), 1, requests[i].Length);
            var alone = session.Run(new Dictionary<string, Tensor> { ["input_ids"] = requests[i], ["attention_mask"] = mask });
            Assert.Equal(alone["pooler_output"].ToArray<float>(), Wire.Fp32Output(responses[i].Body, "pooler_output").ToArray<float>());
        }
    }
}
