using System.Buffers;
using Google.Protobuf;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Decodes a received ModelInferRequest without copying its raw_input_contents (field 7) into fresh arrays, as the
/// generated parser would (for a 64 MiB tensor that cost more than the transfer itself: a page fault per 4 KiB).
/// A message read whole into a pooled block (<see cref="GrpcMessageReader"/>) keeps its entries where they are: each
/// is a slice of the block, which the input tensor is made over. A message Grpc.AspNetCore buffered has each large
/// entry copied once, straight from its buffer into a pooled block. Every other field goes to the generated parser,
/// unchanged; the entries keep their order.
/// </summary>
internal static class RawInputParser
{
    private const int RawInputContentsField = 7;
    private const int LengthDelimited = 2;

    /// <summary>The request in <paramref name="message"/>; its raw contents are slices of that block (dispose it once the answer is written).</summary>
    public static ModelInferRequest Parse(RequestBuffer message) => Parse(new ReadOnlySequence<byte>(message.Memory), message, null, null);

    /// <summary>The request; the blocks holding its raw contents are added to <paramref name="blocks"/> (dispose them once the answer is written).</summary>
    public static ModelInferRequest Parse(ReadOnlySequence<byte> payload, RequestBufferPool pool, List<RequestBuffer> blocks) => Parse(payload, null, pool, blocks);

    private static ModelInferRequest Parse(ReadOnlySequence<byte> payload, RequestBuffer? message, RequestBufferPool? pool, List<RequestBuffer>? blocks)
    {
        var reader = new SequenceReader<byte>(payload);
        var fields = new ArrayBufferWriter<byte>(256);
        var raw = new List<ByteString>();
        while (!reader.End)
        {
            long start = reader.Consumed;
            ulong tag = ReadVarint(ref reader);
            int wireType = (int)(tag & 7);
            if (tag >> 3 == RawInputContentsField && wireType == LengthDelimited)
            {
                int length = Length(ref reader);
                if (message is not null)
                {
                    raw.Add(UnsafeByteOperations.UnsafeWrap(message.Memory.Slice((int)reader.Consumed, length)));
                    reader.Advance(length);
                }
                else
                {
                    raw.Add(length < PinnedBytes.MinimumPinnedBytes ? ByteString.CopyFrom(Take(ref reader, length).ToArray()) : Copy(ref reader, length, pool!, blocks!));
                }

                continue;
            }

            Skip(ref reader, wireType);
            foreach (var segment in payload.Slice(start, reader.Consumed - start))
            {
                fields.Write(segment.Span);
            }
        }

        ModelInferRequest request;
        try
        {
            request = ModelInferRequest.Parser.ParseFrom(fields.WrittenSpan);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Invalid(e.Message);
        }

        request.RawInputContents.Add(raw);
        return request;
    }

    private static ByteString Copy(ref SequenceReader<byte> reader, int length, RequestBufferPool pool, List<RequestBuffer> blocks)
    {
        var block = pool.Rent(length);
        blocks.Add(block);
        Take(ref reader, length).CopyTo(block.Free.Span);
        block.Length = length;
        return UnsafeByteOperations.UnsafeWrap(block.Memory);
    }

    private static ReadOnlySequence<byte> Take(ref SequenceReader<byte> reader, int length)
    {
        var bytes = reader.UnreadSequence.Slice(0, length);
        reader.Advance(length);
        return bytes;
    }

    private static void Skip(ref SequenceReader<byte> reader, int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint(ref reader);
                break;
            case 1:
                Advance(ref reader, 8);
                break;
            case LengthDelimited:
                Advance(ref reader, Length(ref reader));
                break;
            case 5:
                Advance(ref reader, 4);
                break;
            default:
                throw Invalid($"wire type {wireType} (groups are not part of this message)");
        }
    }

    private static int Length(ref SequenceReader<byte> reader)
    {
        ulong length = ReadVarint(ref reader);
        return length <= (ulong)reader.Remaining ? (int)length : throw Invalid($"a field of {length} bytes where {reader.Remaining} remain");
    }

    private static void Advance(ref SequenceReader<byte> reader, int count)
    {
        if (reader.Remaining < count) throw Invalid($"a field of {count} bytes where {reader.Remaining} remain");
        reader.Advance(count);
    }

    private static ulong ReadVarint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out byte b)) throw Invalid("the message ends inside a varint");
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }

        throw Invalid("a varint longer than 10 bytes");
    }

    private static ServingException Invalid(string what) => ServingException.BadRequest($"malformed ModelInferRequest: {what}");
}
