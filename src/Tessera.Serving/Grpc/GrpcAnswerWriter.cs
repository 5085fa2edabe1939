using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using Tessera.Serving.Grpc.Wire;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Writes a ModelInferResponse as the one length-prefixed message of a unary gRPC answer, straight into the response
/// pipe: every field but raw_output_contents through the generated serializer, then each raw_output_contents entry
/// (field 6) as its tag and length followed by the output tensor's own bytes, sent a MiB at a time as REST answers
/// are — so a large output is copied once, into the pipe, and sending starts before it is all copied.
/// </summary>
internal static class GrpcAnswerWriter
{
    private const byte RawOutputContentsTag = (6 << 3) | 2; // field 6, length-delimited
    private const int ChunkBytes = 1 << 20;

    public static async ValueTask WriteAsync(PipeWriter body, ModelInferResponse answer, CancellationToken cancellationToken)
    {
        var raw = answer.RawOutputContents.ToArray();
        answer.RawOutputContents.Clear();
        long length = answer.CalculateSize();
        foreach (var entry in raw)
        {
            length += 1 + CodedOutputStream.ComputeLengthSize(entry.Length) + entry.Length;
        }

        if (length > uint.MaxValue)
        {
            throw new Protocol.ServingException(500, $"the answer of {length} bytes does not fit in one gRPC message (4 GiB)");
        }

        var prefix = body.GetSpan(GrpcMessageReader.PrefixBytes);
        prefix[0] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)length);
        body.Advance(GrpcMessageReader.PrefixBytes);
        answer.WriteTo(body);
        foreach (var entry in raw)
        {
            var tag = body.GetSpan(16);
            tag[0] = RawOutputContentsTag;
            int tagBytes = 1 + WriteVarint(tag[1..], (uint)entry.Length);
            body.Advance(tagBytes);
            var bytes = entry.Memory;
            if (bytes.Length <= ChunkBytes)
            {
                body.Write(bytes.Span); // sent with what follows, by the next flush
                continue;
            }

            for (int at = 0; at < bytes.Length; at += ChunkBytes)
            {
                await body.WriteAsync(bytes.Slice(at, Math.Min(ChunkBytes, bytes.Length - at)), cancellationToken).ConfigureAwait(false);
            }
        }

        // No flush here: what is left goes out when the call ends, in the same pass of Kestrel's HTTP/2 frame writer
        // as the trailers, rather than waking that writer once for the data and again for the trailers.
    }

    private static int WriteVarint(Span<byte> span, uint value)
    {
        int i = 0;
        for (; value >= 0x80; value >>= 7)
        {
            span[i++] = (byte)(value | 0x80);
        }

        span[i++] = (byte)value;
        return i;
    }
}
