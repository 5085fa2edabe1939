using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Reads the one message of a unary gRPC call from the request body as it arrives: the 5-byte prefix (compressed
/// flag, big-endian length), then the message straight into a pooled block of its size, whose raw contents then
/// are the input tensors' storage (<see cref="RawInputParser.Parse(RequestBuffer)"/>). Nothing else buffers the
/// message: the stream's pipe only holds what has arrived and not been copied yet.
/// </summary>
internal static class GrpcMessageReader
{
    public const int PrefixBytes = 5;

    /// <summary>
    /// The message in a block of <paramref name="pool"/> (dispose it once nothing reads its inputs). Refuses, as a
    /// <see cref="ServingException"/>: a message over <paramref name="maxBytes"/> (413) before reading it, a
    /// compressed one (501: the call declared no grpc-encoding), a body that is not exactly one message (400).
    /// </summary>
    public static async ValueTask<RequestBuffer> ReadAsync(PipeReader body, RequestBufferPool pool, long maxBytes, CancellationToken cancellationToken)
    {
        var result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
        while (result.Buffer.Length < PrefixBytes && !result.IsCompleted)
        {
            body.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
        }

        var buffer = result.Buffer;
        int length;
        try
        {
            length = MessageLength(buffer, maxBytes);
        }
        catch
        {
            body.AdvanceTo(buffer.End);
            throw;
        }

        var message = pool.Rent(length);
        try
        {
            buffer = buffer.Slice(PrefixBytes);
            while (true)
            {
                int take = (int)Math.Min(buffer.Length, length - message.Length);
                buffer.Slice(0, take).CopyTo(message.Free.Span);
                message.Length += take;
                bool extra = buffer.Length > take;
                body.AdvanceTo(buffer.End);
                if (extra)
                {
                    throw Invalid("the request has more than one message; ModelInfer takes one (ModelStreamInfer takes many)");
                }

                if (result.IsCompleted)
                {
                    return message.Length == length ? message
                        : throw Invalid($"the request ends after {message.Length} of its message's {length} bytes");
                }

                result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
                buffer = result.Buffer;
            }
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    private static int MessageLength(ReadOnlySequence<byte> buffer, long maxBytes)
    {
        if (buffer.Length < PrefixBytes)
        {
            throw Invalid(buffer.IsEmpty ? "the call has no request message" : "the request ends inside its message's 5-byte prefix");
        }

        Span<byte> prefix = stackalloc byte[PrefixBytes];
        buffer.Slice(0, PrefixBytes).CopyTo(prefix);
        return PrefixedLength(prefix, maxBytes, gzip: false, out _);
    }

    /// <summary>
    /// The length a message's 5-byte prefix announces, refused over <paramref name="maxBytes"/>; a compressed message
    /// (flag 1) only when the call named gzip (<paramref name="gzip"/>), else 501.
    /// </summary>
    public static int PrefixedLength(ReadOnlySpan<byte> prefix, long maxBytes, bool gzip, out bool compressed)
    {
        compressed = prefix[0] switch
        {
            0 => false,
            1 when gzip => true,
            1 => throw new ServingException(501, "the request message is compressed, but the call names no grpc-encoding to decompress it with"),
            _ => throw Invalid($"the message prefix's compressed flag is {prefix[0]} (0 or 1)"),
        };
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        return length <= maxBytes && length <= Array.MaxLength - RequestBuffer.Alignment ? (int)length
            : throw new ServingException(413, $"the request message of {length} bytes is larger than the limit of {maxBytes} bytes");
    }

    private static ServingException Invalid(string what) => ServingException.BadRequest($"malformed gRPC request: {what}");
}
