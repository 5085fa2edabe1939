using System.Net;
using Tessera.Tests.Support;

namespace Tessera.Tests.Serving;

/// <summary>The real `tessera serve` process: starts, answers over HTTP, and refuses bad command lines in one line.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task ServeStartsAndAnswersInferenceRequests()
    {
        string model = Path.Combine(TestPaths.Require(Path.Combine(TestPaths.OrtCases, "dense_b1")), "model.onnx");
        using var serve = new ServeProcess("--model", model, "--name", "d", "--http", "127.0.0.1:0", "--max-batch-size", "4");
        await serve.WaitUntilListeningAsync();
        var client = serve.Client;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/models/d")).StatusCode);
        string body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,100],\"datatype\":\"FP32\",\"data\":[" + string.Join(",", Enumerable.Repeat("0.5", 100)) + "]}]}";
        using var response = await client.PostAsync("/v2/models/d/infer", new StringContent(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"shape\":[1,1]", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ServeOverTlsWithApiKeysAnswersCurl()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-serve-tls-").FullName;
        try
        {
            string model = Path.Combine(TestPaths.Require(Path.Combine(TestPaths.OrtCases, "dense_b1")), "model.onnx");
            var (cert, key) = TestCertificates.WriteSelfSigned(dir, "serve");
            string keys = Path.Combine(dir, "keys");
            File.WriteAllText(keys, "curl-key\n");
            using var serve = new ServeProcess("--model", model, "--name", "d", "--http", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--api-key-file", keys, "--open-health");
            await serve.WaitUntilListeningAsync();
            string url = serve.Client.BaseAddress!.ToString().TrimEnd('/');
            Assert.StartsWith("https://", url, StringComparison.Ordinal);
            Assert.Equal("200", Curl("--cacert", cert, url + "/v2/health/ready"));
            Assert.Equal("401", Curl("--cacert", cert, url + "/v2/models/d"));
            Assert.Equal("200", Curl("--cacert", cert, "-H", "Authorization: Bearer curl-key", url + "/v2/models/d"));
            Assert.Equal("000", Curl(url + "/v2/health/ready")); // curl does not trust the certificate
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>curl's HTTP status for a request (000 when no answer was had), an independent HTTPS client.</summary>
    private static string Curl(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])["-s", "-o", "/dev/null", "-w", "%{http_code}", .. args]) info.ArgumentList.Add(a);
        using var curl = System.Diagnostics.Process.Start(info)!;
        string status = curl.StandardOutput.ReadToEnd();
        curl.WaitForExit();
        return status;
    }

    [Theory]
    [InlineData("tessera: give either --model or --repository")]
    [InlineData("tessera: --http 'nowhere' must be HOST:PORT", "--model", "m.onnx", "--http", "nowhere")]
    [InlineData("tessera: --grpc 'example.org:8001': 'example.org' is not an IP address", "--model", "m.onnx", "--grpc", "example.org:8001")]
    [InlineData("tessera: --preferred-batch-sizes must lie in [1, --max-batch-size = 4]", "--model", "m.onnx", "--max-batch-size", "4", "--preferred-batch-sizes", "8")]
    [InlineData("does not exist", "--repository", "/nonexistent/repo")]
    [InlineData("tessera: --strategy goes with --workers", "--model", "m.onnx", "--strategy", "pipeline")]
    [InlineData("tessera: --plan needs --cluster", "--model", "m.onnx", "--plan", "p/plan.json")]
    [InlineData("tessera: cannot read cluster file 'c.json'", "--model", "m.onnx", "--cluster", "c.json")]
    [InlineData("tessera: --workers starts workers of its own", "--model", "m.onnx", "--workers", "2", "--cluster", "c.json")]
    [InlineData("tessera: --plan places the model itself", "--model", "m.onnx", "--plan", "p/plan.json", "--cluster", "c.json", "--strategy", "pipeline")]
    [InlineData("tessera: --grace must be 0 or more", "--model", "m.onnx", "--grace", "-1")]
    [InlineData("tessera: --workers must be 0 or more", "--model", "m.onnx", "--workers", "-1")]
    [InlineData("tessera: --repository-control goes with --repository", "--model", "m.onnx", "--repository-control")]
    [InlineData("tessera: --cluster-tls-key and --cluster-tls-ca go with --cluster-tls-cert", "--model", "m.onnx", "--cluster-tls-key", "k.pem")]
    [InlineData("tessera: --tls-key goes with --tls-cert", "--model", "m.onnx", "--tls-key", "k.pem")]
    [InlineData("tessera: --tls-cert needs --tls-key", "--model", "m.onnx", "--tls-cert", "c.pem")]
    [InlineData("tessera: cannot load the TLS certificate (/nonexistent/c.pem, k.pem)", "--model", "m.onnx", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "k.pem")]
    [InlineData("tessera: --open-health goes with --api-key-file", "--model", "m.onnx", "--open-health")]
    [InlineData("tessera: --max-streams must be 1 or more", "--model", "m.onnx", "--max-streams", "0")]
    [InlineData("tessera: --max-header-kb must lie in [1, 1024]", "--model", "m.onnx", "--max-header-kb", "0")]
    [InlineData("tessera: --otlp-endpoint: the OTLP endpoint 'collector:4317' is not an http:// or https:// URL", "--model", "m.onnx", "--otlp-endpoint", "collector:4317")]
    public void BadCommandLinesFailWithOneLine(string message, params string[] args)
    {
        var result = CliProcess.Run(["serve", .. args]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
