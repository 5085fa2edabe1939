using Google.Protobuf;
using Tessera.Serving.Backends;
using Tessera.Serving.Grpc.Wire;
using DataType = Tessera.Tensors.DataType;
using ServingConfig = Tessera.Serving.Repository.ModelConfig;

namespace Tessera.Tests.Serving;

/// <summary>
/// Large tensors travel as tensors over the received bytes (pooled request blocks, no copy): many concurrent
/// requests of distinct contents, over REST binary data and gRPC raw contents, each get exactly their own bytes
/// back — a block given back to the pool before its answer was written would hand one request another's data.
/// </summary>
public sealed class LargeTensorTests
{
    [Fact]
    public async Task ConcurrentLargeRequestsEachGetTheirOwnBytesBackOverRestAndGrpc()
    {
        var echo = TestModels.Echo([("FP32", DataType.Float32), ("UINT8", DataType.UInt8)]);
        var config = new ServingConfig { Replicas = 2 };
        await using var server = await TestServer.StartAsync(r => r.Add("echo", 1, new LocalBackend(echo, "echo", 2, 1), config), grpc: true);
        for (int round = 0; round < 3; round++)
        {
            var calls = Enumerable.Range(0, 8).Select(k => k % 2 == 0 ? RestAsync(server, Seed(round, k)) : GrpcAsync(server, Seed(round, k)));
            await Task.WhenAll(calls);
        }
    }

    private static int Seed(int round, int k) => round * 100 + k;

    /// <summary>An FP32 tensor of 64 Ki..128 Ki elements and a small UINT8 one, from the seed.</summary>
    private static (byte[] Large, byte[] Small) Contents(int seed)
    {
        var random = new Random(seed);
        var large = new byte[(65536 + random.Next(65536)) * 4];
        var small = new byte[3 + random.Next(40)];
        random.NextBytes(large);
        random.NextBytes(small);
        return (large, small);
    }

    private static async Task RestAsync(TestServer server, int seed)
    {
        var (large, small) = Contents(seed);
        string json = $"{{\"inputs\":[{{\"name\":\"in_FP32\",\"shape\":[{large.Length / 4}],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{large.Length}}}}}," +
            $"{{\"name\":\"in_UINT8\",\"shape\":[{small.Length}],\"datatype\":\"UINT8\",\"parameters\":{{\"binary_data_size\":{small.Length}}}}}]," +
            "\"parameters\":{\"binary_data_output\":true},\"outputs\":[{\"name\":\"out_FP32\"},{\"name\":\"out_UINT8\"}]}";
        using var response = await server.PostBinaryAsync("/v2/models/echo/infer", json, [.. large, .. small]);
        var (_, binary) = await Wire.ReadBinaryAsync(response);
        Assert.True(binary.AsSpan(0, large.Length).SequenceEqual(large), $"REST request {seed}: the FP32 output is not its input");
        Assert.True(binary.AsSpan(large.Length).SequenceEqual(small), $"REST request {seed}: the UINT8 output is not its input");
    }

    private static async Task GrpcAsync(TestServer server, int seed)
    {
        var (large, small) = Contents(seed);
        var request = GrpcApiTests.Request("echo", "in_UINT8", "UINT8", [small.Length]); // the small one first: entries keep their order
        request.Inputs.Add(GrpcApiTests.Input("in_FP32", "FP32", [large.Length / 4]));
        request.RawInputContents.Add([ByteString.CopyFrom(small), ByteString.CopyFrom(large)]);
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "out_FP32" });
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "out_UINT8" });
        var answer = await server.Grpc.ModelInferAsync(request);
        Assert.True(answer.RawOutputContents[0].Span.SequenceEqual(large), $"gRPC request {seed}: the FP32 output is not its input");
        Assert.True(answer.RawOutputContents[1].Span.SequenceEqual(small), $"gRPC request {seed}: the UINT8 output is not its input");
    }
}
