using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tessera.Serving.Backends;
using Tessera.Serving.Repository;
using Tessera.Tensors;

namespace Tessera.Tests.Serving;

/// <summary>
/// A client nobody here wrote: Debian's python3-grpcio with stubs python3-grpc-tools generates from the proto
/// (conformance/grpc-client.py). Every answer it reads over gRPC must equal the REST answer to the same request.
/// </summary>
public sealed class PythonGrpcClientTests
{
    private const string Python = "/usr/bin/python3";

    // (model, input, datatype, shape, values as JSON)
    private static readonly (string Model, string Input, string Type, int[] Shape, string Values)[] s_tensors =
    [
        ("affine", "x", "FP32", [3, 4], "[0.5,-1.25,3,0.1,2,2,-7.5,1e-3,0,0,1,-1]"),
        ("echo", "in_BOOL", "BOOL", [3], "[true,false,true]"),
        ("echo", "in_UINT8", "UINT8", [3], "[0,255,7]"),
        ("echo", "in_UINT16", "UINT16", [3], "[0,65535,300]"),
        ("echo", "in_UINT32", "UINT32", [3], "[0,4294967295,70000]"),
        ("echo", "in_UINT64", "UINT64", [3], "[0,18446744073709551615,5]"),
        ("echo", "in_INT8", "INT8", [3], "[-128,127,0]"),
        ("echo", "in_INT16", "INT16", [3], "[-32768,32767,-1]"),
        ("echo", "in_INT32", "INT32", [3], "[-2147483648,2147483647,-5]"),
        ("echo", "in_INT64", "INT64", [3], "[-9223372036854775808,9223372036854775807,-5]"),
        ("echo", "in_FP32", "FP32", [3], "[0.1,-3.4028235E+38,2.5]"),
        ("echo", "in_FP64", "FP64", [3], "[0.1,1e-300,-2.5]"),
        ("half", "in_FP16", "FP16", [3], "[0.5,-2,65504]"),
    ];

    [Fact]
    public async Task DebiansGrpcioGetsTheRestAnswersForRawAndTypedRequests()
    {
        Assert.True(File.Exists(Python) && Run(Python, "-c \"import grpc, grpc_tools, numpy\"", out _) == 0,
            $"Debian's python3-grpcio, python3-grpc-tools and python3-numpy are needed: run {TestPaths.PrepareCommand}");
        var echoTypes = TestModels.AllTypes.Where(t => t.Wire is not ("FP16" or "BYTES")).ToArray();
        await using var server = await TestServer.StartAsync(r =>
        {
            r.Add("affine", 1, new LocalBackend(TestModels.Affine(), "affine", 1, 1), new ModelConfig());
            r.Add("echo", 1, new LocalBackend(TestModels.Echo(echoTypes), "echo", 1, 1), new ModelConfig());
            r.Add("half", 1, new LocalBackend(TestModels.Echo([("FP16", DataType.Float16)]), "half", 1, 1), new ModelConfig());
        }, grpc: true);

        var cases = new List<string>();
        var expected = new Dictionary<string, JsonElement>();
        foreach (string model in s_tensors.Select(t => t.Model).Distinct())
        {
            var tensors = s_tensors.Where(t => t.Model == model).ToArray();
            string inputs = string.Join(",", tensors.Select(t => $"{{\"name\":\"{t.Input}\",\"datatype\":\"{t.Type}\",\"shape\":{JsonSerializer.Serialize(t.Shape)},\"values\":{t.Values}}}"));
            var (status, rest) = await server.PostJsonAsync($"/v2/models/{model}/infer", "{\"inputs\":[" + inputs.Replace("\"values\"", "\"data\"", StringComparison.Ordinal) + "]}");
            Assert.Equal(200, status);
            foreach (string form in model == "half" ? new[] { "raw" } : ["raw", "typed"])
            {
                expected[$"{model}-{form}"] = rest;
                cases.Add($"{{\"model\":\"{model}\",\"form\":\"{form}\",\"id\":\"{model}-{form}\",\"inputs\":[{inputs}]}}");
            }
        }

        cases.Add("{\"model\":\"affine\",\"form\":\"typed\",\"id\":\"wrong-type\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1,4],\"values\":[1,2,3,4]}]}");
        cases.Add("{\"model\":\"missing\",\"form\":\"raw\",\"id\":\"missing\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1],\"values\":[1]}]}");
        string casesFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(casesFile, "[" + string.Join(",", cases) + "]");
        try
        {
            string target = new Uri(server.Server.GrpcAddress!).Authority;
            string script = Path.Combine(TestPaths.RepositoryRoot, "conformance", "grpc-client.py");
            string proto = Path.Combine(TestPaths.RepositoryRoot, "src", "Tessera.Serving", "Grpc", "inference.proto");
            Assert.Equal(0, Run(Python, $"{script} --proto {proto} --target {target} --cases {casesFile}", out string output));
            var report = JsonDocument.Parse(output).RootElement;
            Assert.True(report.GetProperty("live").GetBoolean());
            Assert.Equal("affine", report.GetProperty("metadata").GetString());
            var answers = report.GetProperty("answers").EnumerateArray().ToDictionary(a => a.GetProperty("id").GetString()!);
            foreach (var (id, rest) in expected)
            {
                AssertSameOutputs(id, rest, answers[id].GetProperty("outputs"));
            }

            Assert.Equal("INVALID_ARGUMENT", answers["wrong-type"].GetProperty("status").GetString());
            Assert.Contains("must be FP32, got INT32", answers["wrong-type"].GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("NOT_FOUND", answers["missing"].GetProperty("status").GetString());

            var stream = report.GetProperty("stream").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("error").GetString()!);
            Assert.Equal(cases.Count, stream.Count);
            Assert.All(expected.Keys, id => Assert.Equal("", stream[id]));
            Assert.Contains("unknown model 'missing'", stream["missing"], StringComparison.Ordinal);

            Assert.Equal([8, 1], report.GetProperty("health").EnumerateArray().Select(b => b.GetInt32())); // status: SERVING
            Assert.Contains("inference.GRPCInferenceService", report.GetProperty("reflection")[0].GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(casesFile);
        }
    }

    [Fact]
    public async Task DebiansGrpcioCallsOverTlsWithAnApiKey()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-grpc-tls-").FullName;
        try
        {
            var (cert, key) = Support.TestCertificates.WriteSelfSigned(dir, "server");
            string keys = Path.Combine(dir, "keys");
            File.WriteAllText(keys, "python-key\n");
            var options = new Tessera.Serving.Http.ServerOptions
            {
                Url = "http://127.0.0.1:0", GrpcUrl = "http://127.0.0.1:0", Certificate = Tessera.Serving.Http.ServerCertificate.Load(cert, key), ApiKeyFile = keys,
            };
            await using var server = await TestServer.StartAsync(r => r.Add("affine", 1, new LocalBackend(TestModels.Affine(), "affine", 1, 1), new ModelConfig()), options, apiKey: "python-key");
            var (first, _, _, _, values) = s_tensors[0];
            string inputs = $"{{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[3,4],\"values\":{values}}}";
            var (status, rest) = await server.PostJsonAsync($"/v2/models/{first}/infer", "{\"inputs\":[" + inputs.Replace("\"values\"", "\"data\"", StringComparison.Ordinal) + "]}");
            Assert.Equal(200, status);
            string casesFile = Path.Combine(dir, "cases.json");
            await File.WriteAllTextAsync(casesFile, $"[{{\"model\":\"affine\",\"form\":\"raw\",\"id\":\"tls\",\"inputs\":[{inputs}]}}]");

            string target = new Uri(server.Server.GrpcAddress!).Authority;
            string script = Path.Combine(TestPaths.RepositoryRoot, "conformance", "grpc-client.py");
            string proto = Path.Combine(TestPaths.RepositoryRoot, "src", "Tessera.Serving", "Grpc", "inference.proto");
            Assert.True(Run(Python, $"{script} --proto {proto} --target {target} --cases {casesFile} --ca {cert} --api-key python-key", out string output) == 0, output);
            var report = JsonDocument.Parse(output).RootElement;
            Assert.Equal("UNAUTHENTICATED", report.GetProperty("without_key").GetString());
            AssertSameOutputs("tls", rest, report.GetProperty("answers")[0].GetProperty("outputs"));
            Assert.Equal([8, 1], report.GetProperty("health").EnumerateArray().Select(b => b.GetInt32()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertSameOutputs(string id, JsonElement rest, JsonElement grpc)
    {
        foreach (var o in rest.GetProperty("outputs").EnumerateArray())
        {
            string name = o.GetProperty("name").GetString()!;
            var g = grpc.EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
            string type = o.GetProperty("datatype").GetString()!;
            Assert.Equal(type, g.GetProperty("datatype").GetString());
            Assert.Equal(o.GetProperty("shape").GetRawText(), g.GetProperty("shape").GetRawText().Replace(" ", "", StringComparison.Ordinal));
            var want = o.GetProperty("data").EnumerateArray().ToArray();
            var got = g.GetProperty("values").EnumerateArray().ToArray();
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++)
            {
                Assert.True(Same(type, want[i], got[i]), $"{id} {name}[{i}]: REST {want[i].GetRawText()}, gRPC {got[i].GetRawText()}");
            }
        }
    }

    private static bool Same(string type, JsonElement rest, JsonElement grpc) => type switch
    {
        "FP32" => (float)rest.GetDouble() == (float)grpc.GetDouble(),
        "FP16" => (Half)rest.GetDouble() == (Half)grpc.GetDouble(),
        "FP64" => rest.GetDouble() == grpc.GetDouble(),
        _ => rest.GetRawText() == grpc.GetRawText(),
    };

    private static int Run(string file, string arguments, out string output)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            Assert.Fail($"{file} {arguments} did not finish in 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            output += stderr.Result;
        }

        return process.ExitCode;
    }
}
