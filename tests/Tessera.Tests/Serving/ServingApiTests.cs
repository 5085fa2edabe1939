using System.Net;
using Tessera.Cli.Conformance;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Serving.Repository;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Serving;

/// <summary>The KServe v2 endpoints over real HTTP, with results checked against a direct session run and ONNX Runtime.</summary>
public sealed class ServingApiTests
{
    private static string DenseCase => TestPaths.Require(Path.Combine(TestPaths.OrtCases, "dense_b16"));

    [Fact]
    public async Task HealthAndMetadataDescribeTheModelFromItsGraph()
    {
        await using var server = await TestServer.StartAsync("dense", ModelReader.Load(Path.Combine(DenseCase, "model.onnx")));
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v2/models/dense/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v2/models/dense/versions/1/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync("/v2/models/dense/versions/7/ready")).StatusCode);

        var (status, meta) = await server.GetJsonAsync("/v2");
        Assert.Equal(200, status);
        Assert.Equal("tessera", meta.GetProperty("name").GetString());
        Assert.Contains("binary_tensor_data", meta.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));

        (status, meta) = await server.GetJsonAsync("/v2/models/dense");
        Assert.Equal(200, status);
        Assert.Equal("dense", meta.GetProperty("name").GetString());
        Assert.Equal(["1"], meta.GetProperty("versions").EnumerateArray().Select(e => e.GetString()));
        var input = meta.GetProperty("inputs")[0];
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1, 100], Wire.Shape(input));
        Assert.Equal([-1, 1], Wire.Shape(meta.GetProperty("outputs")[0]));

        (status, meta) = await server.GetJsonAsync("/v2/models/dense/versions/1");
        Assert.Equal(200, status);
        (status, meta) = await server.GetJsonAsync("/v2/models/other");
        Assert.Equal(404, status);
        Assert.Contains("unknown model 'other'", meta.GetProperty("error").GetString());
    }

    [Fact]
    public async Task JsonInferenceEqualsADirectSessionRunAndOnnxRuntime()
    {
        string modelPath = Path.Combine(DenseCase, "model.onnx");
        var input = TensorProtoFormat.ReadFile(Path.Combine(DenseCase, "test_data_set_0", "input_0.pb"));
        var expectedOrt = ReferenceData.Read(Path.Combine(DenseCase, "test_data_set_0", "output_0.pb"), DataType.Float32);
        var direct = InferenceSession.Load(modelPath).Run(new Dictionary<string, Tensor> { ["input"] = input })["output"];

        await using var server = await TestServer.StartAsync("dense", ModelReader.Load(modelPath));
        var (status, body) = await server.PostJsonAsync("/v2/models/dense/infer",
            $"{{\"id\":\"r-1\",\"inputs\":[{Wire.Fp32Input("input", input)}],\"outputs\":[{{\"name\":\"output\"}}]}}");
        Assert.Equal(200, status);
        Assert.Equal("r-1", body.GetProperty("id").GetString());
        Assert.Equal("dense", body.GetProperty("model_name").GetString());
        Assert.Equal("1", body.GetProperty("model_version").GetString());
        var served = Wire.Fp32Output(body, "output");
        Assert.Equal(direct.Shape, served.Shape);
        Assert.Equal(direct.ToArray<float>(), served.ToArray<float>()); // exact: JSON floats round-trip
        Assert.Null(TensorComparer.Compare(served, expectedOrt, 1e-4, 1e-3));
    }

    [Fact]
    public async Task BinaryInferenceEqualsADirectSessionRun()
    {
        string modelPath = Path.Combine(DenseCase, "model.onnx");
        var input = TensorProtoFormat.ReadFile(Path.Combine(DenseCase, "test_data_set_0", "input_0.pb"));
        var direct = InferenceSession.Load(modelPath).Run(new Dictionary<string, Tensor> { ["input"] = input })["output"];
        await using var server = await TestServer.StartAsync("dense", ModelReader.Load(modelPath));

        byte[] data = input.Bytes.ToArray();
        string header = $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[{input.Shape[0]},100],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{data.Length}}}}}]," +
                        "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]}";
        using var response = await server.PostBinaryAsync("/v2/models/dense/infer", header, data);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
        var (json, binary) = await Wire.ReadBinaryAsync(response);
        var output = Wire.Output(json, "output");
        Assert.Equal(direct.ByteLength, output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.False(output.TryGetProperty("data", out _));
        Assert.Equal(direct.Bytes.ToArray(), binary);

        // binary_data_output on the request: every output comes back binary without naming it.
        using var all = await server.PostBinaryAsync("/v2/models/dense/infer",
            header.Replace(",\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]", ",\"parameters\":{\"binary_data_output\":true}"), data);
        var (_, allBinary) = await Wire.ReadBinaryAsync(all);
        Assert.Equal(direct.Bytes.ToArray(), allBinary);
    }

    [Fact]
    public async Task RepositoryServesSeveralModelsAndVersionsAtOnce()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-repo-").FullName;
        try
        {
            string dense = Path.Combine(DenseCase, "model.onnx");
            foreach (string v in new[] { "1", "2" })
            {
                Directory.CreateDirectory(Path.Combine(dir, "dense", v));
                File.Copy(dense, Path.Combine(dir, "dense", v, "model.onnx"));
            }

            File.WriteAllText(Path.Combine(dir, "dense", "config.json"), "{\"replicas\": 2, \"max_batch_size\": 8, \"scheduling\": \"round_robin\"}");
            Directory.CreateDirectory(Path.Combine(dir, "affine", "3"));
            ModelWriter.Save(TestModels.Affine(), Path.Combine(dir, "affine", "3", "model.onnx"));

            var options = new Tessera.Serving.Http.ServerOptions { Url = "http://127.0.0.1:0" };
            await using var real = await Tessera.Serving.Http.ServingServer.StartAsync(options, logger => ModelRepository.LoadDirectory(dir, new ModelConfig(), logger));
            using var client = new HttpClient { BaseAddress = new Uri(real.Addresses[0]) };

            var meta = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/v2/models/dense")).RootElement;
            Assert.Equal(["1", "2"], meta.GetProperty("versions").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/models/affine/versions/1")).StatusCode);

            var x = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => i * 0.25f).ToArray(), 2, 4);
            var denseIn = Tensor.FromArray(Enumerable.Range(0, 100).Select(i => i * 0.01f).ToArray(), 1, 100);
            // Both models at once, several requests each: every one answered.
            var tasks = new List<Task<HttpResponseMessage>>();
            for (int i = 0; i < 6; i++)
            {
                tasks.Add(client.PostAsync("/v2/models/affine/infer", new StringContent(Wire.Request(Wire.Fp32Input("x", x)))));
                tasks.Add(client.PostAsync($"/v2/models/dense/versions/{1 + i % 2}/infer", new StringContent(Wire.Request(Wire.Fp32Input("input", denseIn)))));
            }

            foreach (var response in await Task.WhenAll(tasks))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            string metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("tessera_requests_total{model=\"affine\",version=\"3\",outcome=\"success\"} 6", metrics);
            Assert.Contains("tessera_requests_total{model=\"dense\",version=\"1\",outcome=\"success\"} 3", metrics);
            Assert.Contains("tessera_requests_total{model=\"dense\",version=\"2\",outcome=\"success\"} 3", metrics);
            Assert.Contains("tessera_replica_batches_total{model=\"dense\",version=\"1\",replica=\"1\"}", metrics); // two replicas from config.json
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
