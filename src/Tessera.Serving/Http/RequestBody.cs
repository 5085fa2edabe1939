using System.Buffers;
using Microsoft.AspNetCore.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Http;

/// <summary>Reads a request body into a pooled array, refusing more than the limit (413) before or while reading.</summary>
internal static class RequestBody
{
    /// <summary>The body in a rented array (return it with <see cref="ArrayPool{T}.Shared"/>) and its length.</summary>
    public static async Task<(byte[] Buffer, int Length)> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        long? declared = request.ContentLength;
        if (declared > maxBytes)
        {
            throw new ServingException(413, $"the request body of {declared} bytes is larger than the limit of {maxBytes} bytes");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(declared ?? 16 * 1024, 1));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= maxBytes)
                    {
                        // One byte more than the limit tells an over-long chunked body from one exactly at it.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken).ConfigureAwait(false) > 0)
                        {
                            throw new ServingException(413, $"the request body is larger than the limit of {maxBytes} bytes");
                        }

                        break;
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxBytes));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > maxBytes)
                {
                    throw new ServingException(413, $"the request body is larger than the limit of {maxBytes} bytes");
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return (buffer, length);
    }
}
