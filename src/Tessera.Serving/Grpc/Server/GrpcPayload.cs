using System.Buffers;
using Grpc.Core;
using Tessera.Serving.Http;

namespace Tessera.Serving.Grpc.Server;

/// <summary>A received message, in its pooled block, as the generated marshallers' deserializers read it.</summary>
internal sealed class GrpcPayload : DeserializationContext
{
    private readonly RequestBuffer _message;

    public GrpcPayload(RequestBuffer message)
    {
        _message = message;
    }

    public override int PayloadLength => _message.Length;

    public override byte[] PayloadAsNewBuffer() => _message.Span.ToArray();

    public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(_message.Memory);
}
