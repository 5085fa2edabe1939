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
/// the load itself is the same unary call on an HTTP/2 connection per worker (<see cref="GrpcWireCall"/>), because
/// Grpc.Net.Client reads every answer into a new array of its size, and SocketsHttpHandler under it moves 16 KiB
/// frames through a writer and a reader loop: for a 64 MiB tensor the client then spent three to four times the
/// server's CPU per request, and the client, not the server, set the pace.
/// </summary>
internal sealed class GrpcInferClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client;
    private readonly ModelInferRequest _request;
    private readonly byte[] _framed;
    private readonly TimeSpan _timeout;
    private readonly string _target;
    private readonly List<GrpcWireCall> _calls = [];

    public GrpcInferClient(LoadSettings settings, string target, IReadOnlyList<KeyValuePair<string, Tensor>> inputs)
    {
        _target = target;
        _timeout = settings.RequestTimeout;
        _channel = GrpcChannel.ForAddress("http://" + target, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
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

        _framed = GrpcWireCall.Frame(_request.ToByteArray());
    }

    public int RequestBytes => _framed.Length - 5;

    public void Dispose()
    {
        foreach (var call in _calls) call.Dispose();
        _channel.Dispose();
    }

    /// <summary>A caller with a connection of its own, for one worker; disposed with this client.</summary>
    public GrpcWireCall CreateCall()
    {
        var call = new GrpcWireCall(_target, $"/{GRPCInferenceService.Descriptor.FullName}/ModelInfer", _framed, _timeout);
        _calls.Add(call);
        return call;
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
