using System.Net;
using System.Text;
using System.Text.Json;

namespace Tessera.Tests.Serving;

/// <summary>Every kind of bad request gets a 4xx with {"error": "..."}, and the server goes on serving.</summary>
public sealed class BadInputTests
{
    private const string Good = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

    public static TheoryData<string, string, int, string> Cases => new()
    {
        { "/v2/models/affine/infer", "{\"inputs\":[{\"name\":\"x\",", 400, "malformed JSON" },
        { "/v2/models/affine/infer", "not json at all", 400, "malformed JSON" },
        { "/v2/models/affine/infer", "[1,2]", 400, "must be a JSON object" },
        { "/v2/models/affine/infer", "{}", 400, "no \"inputs\"" },
        { "/v2/models/affine/infer", Good + " trailing", 400, "" },
        { "/v2/models/affine/infer", Good.Replace("\"x\"", "\"nope\""), 400, "no input named 'nope'" },
        { "/v2/models/affine/infer", "{\"inputs\":[]}", 400, "missing input 'x'" },
        { "/v2/models/affine/infer", Good.Replace("[1,4]", "[1,5]"), 400, "has 4 data values, but its shape [1,5] holds 5" },
        { "/v2/models/affine/infer", Good.Replace("[1,4]", "[4,1]"), 400, "model expects [-1,4]" },
        { "/v2/models/affine/infer", Good.Replace("[1,4]", "[4]"), 400, "model expects [-1,4]" },
        { "/v2/models/affine/infer", Good.Replace("FP32", "FP64"), 400, "must be FP32, got FP64" },
        { "/v2/models/affine/infer", Good.Replace("FP32", "FLOAT"), 400, "unknown datatype 'FLOAT'" },
        { "/v2/models/affine/infer", Good.Replace("[1,2,3,4]", "[1,2,3,4,5]"), 400, "more data values" },
        { "/v2/models/affine/infer", Good.Replace("[1,2,3,4]", "[1,2,\"x\",4]"), 400, "\"x\" is not a FP32 value" },
        { "/v2/models/affine/infer", Good.Replace("[1,2,3,4]", "[1,2,{},4]"), 400, "data must be an array of values" },
        { "/v2/models/affine/infer", Good.Replace("[1,4]", "[-1,4]"), 400, "non-negative integers" },
        { "/v2/models/affine/infer", Good.Replace("[1,4]", "[100000000000,4]"), 400, "larger than" },
        { "/v2/models/affine/infer", Good.Replace("\"data\":[1,2,3,4]", "\"parameters\":{}"), 400, "neither \"data\" nor binary_data_size" },
        { "/v2/models/affine/infer", Good.Replace("\"data\":[1,2,3,4]", "\"parameters\":{\"binary_data_size\":16}"), 400, "only 0 bytes of binary data" },
        { "/v2/models/affine/infer", Good.Replace("]}", "],\"outputs\":[{\"name\":\"z\"}]}"), 400, "no output named 'z'" },
        { "/v2/models/affine/infer", Good.Replace("]}", "],\"parameters\":{\"priority\":3}}"), 400, "priority 3 is out of range" },
        { "/v2/models/affine/infer", Good.Replace("]}", "],\"parameters\":{\"priority\":\"high\"}}"), 400, "\"priority\" must be an integer" },
        { "/v2/models/affine/infer", Good.Replace("]}", "],\"parameters\":{\"timeout\":9223372036854775807}}"), 400, "\"timeout\" must be an integer in [0, 1000000000000]" },
        { "/v2/models/affine/infer", Good.Replace("[1,4]", "[9,4]").Replace("[1,2,3,4]", "[" + string.Join(",", Enumerable.Repeat("[1,2,3,4]", 9)) + "]"), 400, "exceeds the model's max_batch_size of 8" },
        { "/v2/models/other/infer", Good, 404, "unknown model 'other'" },
        { "/v2/models/affine/versions/2/infer", Good, 404, "has no version '2'" },
        { "/v2/models/affine/versions/x/infer", Good, 404, "has no version 'x'" },
        { "/v2/nothing/here", Good, 404, "no endpoint" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadRequestGetsAClientErrorAndTheServerGoesOn(string path, string body, int status, string message)
    {
        await using var server = await StartAsync();
        var (got, error) = await server.PostJsonAsync(path, body);
        Assert.Equal(status, got);
        Assert.Contains(message, error.GetProperty("error").GetString());
        var (after, _) = await server.PostJsonAsync("/v2/models/affine/infer", Good);
        Assert.Equal(200, after);
    }

    [Fact]
    public async Task BodiesOverTheLimitAre413WhetherDeclaredOrChunked()
    {
        await using var server = await StartAsync(maxBodyBytes: 1024);
        string big = Good.Replace("\"inputs\"", "\"pad\":\"" + new string('x', 2000) + "\",\"inputs\"");
        var (status, error) = await server.PostJsonAsync("/v2/models/affine/infer", big);
        Assert.Equal(413, status);
        Assert.Contains("larger than the limit of 1024 bytes", error.GetProperty("error").GetString());

        // Without Content-Length (chunked), the limit holds while reading.
        using var chunked = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(big)));
        using var response = await server.Client.PostAsync("/v2/models/affine/infer", chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than the limit", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());

        Assert.Equal(200, (await server.PostJsonAsync("/v2/models/affine/infer", Good)).Status);
    }

    [Fact]
    public async Task BinaryFramingErrorsAreClientErrors()
    {
        await using var server = await StartAsync();
        string header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":16}}]}";
        using var shortData = await server.PostBinaryAsync("/v2/models/affine/infer", header.Replace("16", "12"), new byte[12]);
        Assert.Equal(HttpStatusCode.BadRequest, shortData.StatusCode);
        Assert.Contains("need 16", await shortData.Content.ReadAsStringAsync());
        using var extra = await server.PostBinaryAsync("/v2/models/affine/infer", header, new byte[20]);
        Assert.Equal(HttpStatusCode.BadRequest, extra.StatusCode);
        using var ok = await server.PostBinaryAsync("/v2/models/affine/infer", header, new byte[16]);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var content = new StringContent(Good);
        content.Headers.Add("Inference-Header-Content-Length", "99999");
        using var badLength = await server.Client.PostAsync("/v2/models/affine/infer", content);
        Assert.Equal(HttpStatusCode.BadRequest, badLength.StatusCode);

        using var wrongMethod = await server.Client.GetAsync("/v2/models/affine/infer");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Contains("\"error\"", await wrongMethod.Content.ReadAsStringAsync());
    }

    private static Task<TestServer> StartAsync(long maxBodyBytes = 64L << 20) =>
        TestServer.StartAsync(
            r => r.Add("affine", 1, new Tessera.Serving.Backends.LocalBackend(TestModels.Affine(), "affine", 1, 1),
                new Tessera.Serving.Repository.ModelConfig { Scheduler = new() { MaxBatchSize = 8 } }),
            maxBodyBytes);

    /// <summary>A stream without a length, so HttpClient sends the body chunked.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
