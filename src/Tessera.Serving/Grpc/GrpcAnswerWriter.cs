using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using Tessera.Serving.Grpc.Wire;

namespace Tessera.Serving.Grpc;

/// <summary>
/// A ModelInferResponse as the one length-prefixed message of a unary gRPC answer, in pieces that leave the output
/// tensors where they are: every field but raw_output_contents through the generated serializer, then each
/// raw_output_contents entry (field 6) as its tag and length followed by the output tensor's own bytes — so a large
/// output is copied once, into the connection's pipe (<see cref="Segments"/>), and sending starts before it is all
/// copied.
/// </summary>
internal static class GrpcAnswerWriter
{
    private const byte RawOutputContentsTag = (6 << 3) | 2; // field 6, length-delimited
    private const int ChunkBytes = 1 << 20;

    /// <summary>The framed answer: the prefix, the fields and the raw entries' tags in small arrays, each raw entry's own memory between them.</summary>
    public static List<ReadOnlyMemory<byte>> Segments(ModelInferResponse answer)
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

        var head = new ArrayBufferWriter<byte>(GrpcMessageReader.PrefixBytes + (int)Math.Min(length, 4096));
        var prefix = head.GetSpan(GrpcMessageReader.PrefixBytes);
        prefix[0] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)length);
        head.Advance(GrpcMessageReader.PrefixBytes);
        answer.WriteTo(head);
        var segments = new List<ReadOnlyMemory<byte>>(1 + 2 * raw.Length);
        int start = 0;
        foreach (var entry in raw)
        {
            var tag = head.GetSpan(6);
            tag[0] = RawOutputContentsTag;
            head.Advance(1 + WriteVarint(tag[1..], (uint)entry.Length));
            segments.Add(head.WrittenMemory[start..]);
            start = head.WrittenCount;
            segments.Add(entry.Memory);
        }

        if (start < head.WrittenCount) segments.Add(head.WrittenMemory[start..]);
        return segments;
    }

    /// <summary>The answer into a response pipe (Kestrel's HTTP/2), large entries a MiB at a time.</summary>
    public static async ValueTask WriteAsync(PipeWriter body, ModelInferResponse answer, CancellationToken cancellationToken)
    {
        foreach (var segment in Segments(answer))
        {
            if (segment.Length <= ChunkBytes)
            {
                body.Write(segment.Span); // sent with what follows, by the next flush
                continue;
            }

            for (int at = 0; at < segment.Length; at += ChunkBytes)
            {
                await body.WriteAsync(segment.Slice(at, Math.Min(ChunkBytes, segment.Length - at)), cancellationToken).ConfigureAwait(false);
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
