using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Fuzzing;

/// <summary>
/// The REST and gRPC crash inputs sent to a real server, as bytes on the wire: 400 with the error object and
/// INVALID_ARGUMENT with the reader's message, and the server still answering afterwards.
/// </summary>
public sealed class FrontDoorCrashTests
{
    private static readonly Method<byte[], byte[]> s_rawModelInfer = new(
        MethodType.Unary, "inference.GRPCInferenceService", "ModelInfer", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

    [Fact]
    public async Task CrashInputsAreRefusedAtTheFrontDoor()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        foreach (byte[] input in CrashInputs.For("rest"))
        {
            // The file's first line is the Inference-Header-Content-Length value (empty: none), the body follows.
            int newline = Array.IndexOf(input, (byte)'\n');
            var content = new ByteArrayContent(input, newline + 1, input.Length - newline - 1);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (newline > 0) content.Headers.Add("Inference-Header-Content-Length", Encoding.Latin1.GetString(input, 0, newline));
            using var response = await server.Client.PostAsync("/v2/models/affine/infer", content);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == 400, $"{(int)response.StatusCode}: {body}");
            Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()));
        }

        foreach (byte[] input in CrashInputs.For("grpc"))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => server.Channel.CreateCallInvoker().AsyncUnaryCall(s_rawModelInfer, null, new CallOptions(), input).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("malformed ModelInferRequest", e.Status.Detail, StringComparison.Ordinal);
        }

        Assert.True((await server.Grpc.ServerLiveAsync(new Tessera.Serving.Grpc.Wire.ServerLiveRequest())).Live);
    }
}
