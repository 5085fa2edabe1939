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
/// tensors as the REST body), serialised once and sent as those bytes, on HTTP/2 connections that open as the
/// workers need them; answers are received in full but not decoded, as the REST client drains its bodies.
/// </summary>
internal sealed class GrpcInferClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client;
    private readonly ModelInferRequest _request;
    private readonly byte[] _serialized;
    private readonly TimeSpan _timeout;
    private readonly string _target;

    // ModelInfer with the request as its serialised bytes, and the answer received but left undecoded.
    private static readonly Method<byte[], byte[]> s_preserialized = new(
        MethodType.Unary,
        GRPCInferenceService.Descriptor.FullName,
        "ModelInfer",
        Marshallers.Create<byte[]>((bytes, context) => context.Complete(bytes), context => context.PayloadAsNewBuffer()),
        Marshallers.Create<byte[]>((bytes, context) => context.Complete(bytes), _ => []));

    public GrpcInferClient(LoadSettings settings, string target, IReadOnlyList<KeyValuePair<string, Tensor>> inputs)
    {
        _target = target;
        _timeout = settings.RequestTimeout;
        _channel = GrpcChannel.ForAddress("http://" + target, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            // The default 64 KiB receive window made every large answer wait for a round trip per 64 KiB.
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false, InitialHttp2StreamWindowSize = 16 << 20 },
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

        _serialized = _request.ToByteArray();
    }

    public int RequestBytes => _serialized.Length;

    public void Dispose() => _channel.Dispose();

    /// <summary>Sends the request once; null when it succeeded, else the error key (the gRPC status).</summary>
    public async Task<string?> InferAsync(CancellationToken ct)
    {
        try
        {
            await _channel.CreateCallInvoker().AsyncUnaryCall(s_preserialized, null, new CallOptions(deadline: DateTime.UtcNow + _timeout, cancellationToken: ct), _serialized).ConfigureAwait(false);
            return null;
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            return e.StatusCode == StatusCode.DeadlineExceeded ? "timeout" : "grpc " + e.StatusCode;
        }
    }

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
