using Microsoft.AspNetCore.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Http;

/// <summary>Reads a request body into a pooled block, refusing more than the limit (413) before or while reading.</summary>
internal static class RequestBody
{
    /// <summary>The body in a block of <paramref name="pool"/>; dispose it when nothing reads the body any more.</summary>
    public static async Task<RequestBuffer> ReadAsync(HttpRequest request, RequestBufferPool pool, long maxBytes, CancellationToken cancellationToken)
    {
        long? declared = request.ContentLength;
        if (declared > maxBytes)
        {
            throw new ServingException(413, $"the request body of {declared} bytes is larger than the limit of {maxBytes} bytes");
        }

        var buffer = pool.Rent((int)(declared ?? 16 * 1024));
        try
        {
            while (true)
            {
                if (buffer.Length == buffer.Capacity)
                {
                    if (buffer.Length >= maxBytes)
                    {
                        // One byte more than the limit tells an over-long chunked body from one exactly at it.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken).ConfigureAwait(false) > 0)
                        {
                            throw new ServingException(413, $"the request body is larger than the limit of {maxBytes} bytes");
                        }

                        break;
                    }

                    var bigger = pool.Rent((int)Math.Min((long)buffer.Capacity * 2, maxBytes));
                    buffer.Span.CopyTo(bigger.Free.Span);
                    bigger.Length = buffer.Length;
                    buffer.Dispose();
                    buffer = bigger;
                }

                int read = await request.Body.ReadAsync(buffer.Free, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                buffer.Length += read;
                if (buffer.Length > maxBytes)
                {
                    throw new ServingException(413, $"the request body is larger than the limit of {maxBytes} bytes");
                }
            }
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        return buffer;
    }
}
