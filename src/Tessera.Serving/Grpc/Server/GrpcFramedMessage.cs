using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Grpc.Core;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// Where a generated marshaller serializes a response message: after a 5-byte gRPC prefix, written once the length
/// is known, so the framed message is one array.
/// </summary>
internal sealed class GrpcFramedMessage : SerializationContext
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private byte[]? _complete;

    public GrpcFramedMessage()
    {
        _buffer.Advance(GrpcMessageReader.PrefixBytes);
    }

    /// <summary>The prefix and the message; valid once the marshaller completed it.</summary>
    public ReadOnlyMemory<byte> Framed
    {
        get
        {
            if (_complete is not null) return _complete;
            var framed = MemoryMarshal.AsMemory(_buffer.WrittenMemory);
            framed.Span[0] = 0; // not compressed
            BinaryPrimitives.WriteUInt32BigEndian(framed.Span[1..], (uint)(framed.Length - GrpcMessageReader.PrefixBytes));
            return framed;
        }
    }

    public override void Complete(byte[] payload)
    {
        _complete = new byte[GrpcMessageReader.PrefixBytes + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(_complete.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(_complete, GrpcMessageReader.PrefixBytes);
    }

    public override IBufferWriter<byte> GetBufferWriter() => _buffer;

    public override void SetPayloadLength(int payloadLength)
    {
    }

    public override void Complete()
    {
    }
}
