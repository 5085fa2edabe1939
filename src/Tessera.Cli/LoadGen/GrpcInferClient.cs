using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Tessera.Cli.Common;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Protocol;
using Tessera.Tensors;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// Sends the load over the KServe v2 gRPC API instead of REST: one ModelInferRequest with raw contents (the same
/// tensors as the REST body). The probe goes through the generated Grpc.Net.Client stub, which decodes the answer;
/// the load itself is the same unary call written on HttpClient's HTTP/2 (<see cref="GrpcWireCall"/>), because
/// Grpc.Net.Client reads every answer into a new array of its size — for a 64 MiB answer that cost the client
/// more CPU than the server spent on the whole request, and the client, not the server, set the pace.
/// </summary>
internal sealed class GrpcInferClient : IDisposable
{
    // The default 64 KiB receive window made every large answer wait for a round trip per 64 KiB. SocketsHttpHandler
    // then sizes it by its own RTT estimate: with that off (a fixed 1 MiB window, two runs each at load ~12) loadgen's
    // CPU per 64 MiB answer fell by about a third and the server's rose about as much, so it stays on.
    private const int StreamWindowBytes = 16 << 20;

    private readonly GrpcChannel _channel;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client;
    private readonly GrpcWireCall _call;
    private readonly ModelInferRequest _request;
    private readonly TimeSpan _timeout;
    private readonly string _target;

    public GrpcInferClient(LoadSettings settings, string target, IReadOnlyList<KeyValuePair<string, Tensor>> inputs)
    {
        _target = target;
        _timeout = settings.RequestTimeout;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            UseProxy = false,
            InitialHttp2StreamWindowSize = StreamWindowBytes,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        _channel = GrpcChannel.ForAddress("http://" + target, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            HttpHandler = handler,
            DisposeHttpClient = true,
        });
        _client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        _request = new ModelInferRequest { ModelName = settings.Model, ModelVersion = settings.ModelVersion ?? "" };
        if (settings.Priority is int priority)
        {
            _request.Parameters["priority"] = new InferParameter { Int64Param = priority };
        }

        foreach (var (name, tensor) in inputs)
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = WireDataTypes.Name(tensor.DataType) };
            foreach (int d in tensor.Shape) input.Shape.Add(d);
            _request.Inputs.Add(input);
            var bytes = new System.Buffers.ArrayBufferWriter<byte>((int)Math.Max(BinaryTensorWriter.Size(tensor), 1));
            BinaryTensorWriter.Write(bytes, tensor);
            _request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(bytes.WrittenMemory));
        }

        _call = new GrpcWireCall(handler, new Uri($"http://{target}/{GRPCInferenceService.Descriptor.FullName}/ModelInfer"), _request.ToByteArray(), _timeout);
    }

    public int RequestBytes => _call.MessageBytes;

    public void Dispose()
    {
        _call.Dispose();
        _channel.Dispose();
    }

    /// <summary>Sends the request once, the answer drained through <paramref name="drain"/>; null when it succeeded, else the error key.</summary>
    public Task<string?> InferAsync(byte[] drain, CancellationToken ct) => _call.SendAsync(drain, ct);

    /// <summary>The first request: a refused request or an unreachable server ends the run with the server's message.</summary>
    public async Task ProbeAsync()
    {
        try
        {
            await _client.ModelInferAsync(_request, deadline: DateTime.UtcNow + _timeout).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.Unavailable or StatusCode.Unimplemented or StatusCode.Internal or StatusCode.ResourceExhausted)
        {
            throw new CliException($"gRPC ModelInfer at {_target} failed ({e.StatusCode}): {e.Status.Detail}", 1);
        }
    }
}
