using System.Net;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;
using Tessera.Tensors;

namespace Tessera.Tests.Serving;

/// <summary>Ensembles from a repository: members run on their own replicas, their outputs combined by the aggregators.</summary>
public sealed class EnsembleTests
{
    [Fact]
    public async Task MeanWeightedMeanAndConcatEnsemblesCombineTheMembersOutputs()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-ensemble-").FullName;
        try
        {
            var a = TestModels.Affine(1f);
            var b = TestModels.Affine(-0.5f);
            foreach (var (name, model) in new[] { ("a", a), ("b", b) })
            {
                Directory.CreateDirectory(Path.Combine(dir, name, "1"));
                ModelWriter.Save(model, Path.Combine(dir, name, "1", "model.onnx"));
                File.WriteAllText(Path.Combine(dir, name, "config.json"), "{\"max_batch_size\": 4}");
            }

            Ensemble(dir, "avg", "{\"members\": [\"a\", \"b\"], \"output\": \"y\", \"aggregation\": \"mean\"}");
            Ensemble(dir, "wavg", "{\"members\": [\"a\", \"b\"], \"output\": \"y\", \"aggregation\": \"weighted_mean\", \"weights\": [1, 3]}");
            Ensemble(dir, "both", "{\"members\": [\"a\", \"b\"], \"output\": \"y\", \"aggregation\": \"concat\", \"axis\": -1}");

            await using var server = await ServingServer.StartAsync(new ServerOptions { Url = "http://127.0.0.1:0" }, log => ModelRepository.LoadDirectory(dir, new ModelConfig(), log));
            using var client = new HttpClient { BaseAddress = new Uri(server.Addresses[0]) };
            var meta = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/v2/models/both")).RootElement;
            Assert.Equal([-1, 6], Wire.Shape(meta.GetProperty("outputs")[0]));

            var x = Tensor.FromArray(new[] { 0.5f, -1f, 2f, 0.25f, 1f, 1f, -3f, 0f }, 2, 4);
            var feeds = new Dictionary<string, Tensor> { ["x"] = x };
            float[] ya = new InferenceSession(a).Run(feeds)["y"].ToArray<float>();
            float[] yb = new InferenceSession(b).Run(feeds)["y"].ToArray<float>();

            var avg = await PostAsync(client, "avg", x);
            Assert.Equal(ya.Zip(yb, (p, q) => (float)((p + (double)q) / 2)).ToArray(), avg.ToArray<float>());
            var wavg = await PostAsync(client, "wavg", x);
            float[] expected = ya.Zip(yb, (p, q) => (float)(0.25 * p + 0.75 * q)).ToArray();
            Assert.Equal(expected, wavg.ToArray<float>(), (p, q) => Math.Abs(p - q) <= 1e-7f);
            var both = await PostAsync(client, "both", x);
            Assert.Equal([2, 6], both.Shape);
            Assert.Equal(ya[..3].Concat(yb[..3]).Concat(ya[3..]).Concat(yb[3..]), both.ToArray<float>());

            string metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("tessera_requests_total{model=\"avg\",version=\"1\",outcome=\"success\"} 1", metrics);
            Assert.Contains("tessera_replica_rows_total{model=\"a\",version=\"1\",replica=\"0\"} 6", metrics); // three ensembles × 2 rows
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AnEnsembleOverAMissingMemberOrOutputIsRefusedAtLoad()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-ensemble-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "a", "1"));
            ModelWriter.Save(TestModels.Affine(), Path.Combine(dir, "a", "1", "model.onnx"));
            Ensemble(dir, "e", "{\"members\": [\"a\", \"ghost\"], \"output\": \"y\", \"aggregation\": \"mean\"}");
            var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
            var e = Assert.Throws<InvalidDataException>(() => ModelRepository.LoadDirectory(dir, new ModelConfig(), logger));
            Assert.Contains("member 'ghost' is not a loaded model", e.Message);

            Ensemble(dir, "e", "{\"members\": [\"a\"], \"output\": \"nope\", \"aggregation\": \"mean\"}");
            e = Assert.Throws<InvalidDataException>(() => ModelRepository.LoadDirectory(dir, new ModelConfig(), logger));
            Assert.Contains("has no output 'nope'", e.Message);

            Ensemble(dir, "e", "{\"members\": [\"a\"], \"output\": \"y\", \"aggregation\": \"median\"}");
            e = Assert.Throws<InvalidDataException>(() => ModelRepository.LoadDirectory(dir, new ModelConfig(), logger));
            Assert.Contains("unknown aggregation 'median'", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Ensemble(string dir, string name, string ensemble)
    {
        Directory.CreateDirectory(Path.Combine(dir, name));
        File.WriteAllText(Path.Combine(dir, name, "config.json"), $"{{\"ensemble\": {ensemble}}}");
    }

    private static async Task<Tensor> PostAsync(HttpClient client, string model, Tensor x)
    {
        using var response = await client.PostAsync($"/v2/models/{model}/infer", new StringContent(Wire.Request(Wire.Fp32Input("x", x))));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return Wire.Fp32Output(System.Text.Json.JsonDocument.Parse(text).RootElement, "y");
    }
}
