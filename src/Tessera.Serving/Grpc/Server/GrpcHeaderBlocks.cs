using System.Buffers;
using System.Globalization;
using Grpc.Core;
using Tessera.Serving.Http2;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// The header blocks of gRPC answers (gRPC over HTTP/2), HPACK-encoded without the dynamic table: :status from the
/// static table, every other field a literal without indexing, so blocks can be cached and joined.
/// </summary>
internal static class GrpcHeaderBlocks
{
    /// <summary>The answer's headers: :status 200, content-type application/grpc.</summary>
    public static readonly byte[] Response = Headers(200, null);

    /// <summary>Trailers of a call that succeeded: grpc-status 0.</summary>
    public static readonly byte[] Ok = Trailers(StatusCode.OK, null, null);

    /// <summary>Answer headers with an HTTP status and the call's own metadata (ServerCallContext.WriteResponseHeadersAsync).</summary>
    public static byte[] Headers(int httpStatus, Metadata? metadata)
    {
        var block = new ArrayBufferWriter<byte>(64);
        if (httpStatus == 200)
        {
            block.Write<byte>([0x80 | HpackStaticTable.Status200]);
        }
        else
        {
            HpackPrimitives.WriteLiteral(block, HpackStaticTable.Status200, httpStatus.ToString(CultureInfo.InvariantCulture));
        }

        HpackPrimitives.WriteLiteral(block, HpackStaticTable.ContentType, "application/grpc");
        Write(block, metadata);
        return block.WrittenSpan.ToArray();
    }

    /// <summary>grpc-status, grpc-message (percent-encoded) when there is one, and the call's trailing metadata.</summary>
    public static byte[] Trailers(StatusCode code, string? message, Metadata? metadata)
    {
        var block = new ArrayBufferWriter<byte>(64);
        HpackPrimitives.WriteLiteral(block, 0, ((int)code).ToString(CultureInfo.InvariantCulture), "grpc-status");
        if (!string.IsNullOrEmpty(message)) HpackPrimitives.WriteLiteral(block, 0, GrpcStatusMessage.Encode(message), "grpc-message");
        Write(block, metadata);
        return block.WrittenSpan.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> block, Metadata? metadata)
    {
        if (metadata is null) return;
        foreach (var entry in metadata)
        {
            string value = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
            HpackPrimitives.WriteLiteral(block, 0, value, entry.Key);
        }
    }
}
