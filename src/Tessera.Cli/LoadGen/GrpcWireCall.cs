using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// One gRPC unary method called as the protocol lays it on HTTP/2 (a POST of the length-prefixed message with
/// content-type application/grpc, the answer's status in the grpc-status trailer), with the request framed once
/// and every answer drained through a reused buffer: its prefix and length are checked, its bytes not kept.
/// </summary>
internal sealed class GrpcWireCall : IDisposable
{
    private const int PrefixBytes = 5; // compressed flag, then the message length (big endian)

    private static readonly MediaTypeHeaderValue s_grpcContentType = new("application/grpc");

    private readonly HttpClient _http;
    private readonly Uri _uri;
    private readonly byte[] _framed;

    public GrpcWireCall(HttpMessageHandler handler, Uri uri, byte[] message, TimeSpan timeout)
    {
        _http = new HttpClient(handler, disposeHandler: false) { Timeout = timeout };
        _uri = uri;
        _framed = new byte[PrefixBytes + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(_framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(_framed, PrefixBytes);
    }

    public int MessageBytes => _framed.Length - PrefixBytes;

    public void Dispose() => _http.Dispose();

    /// <summary>Null when the call ended with grpc-status 0 and one whole message, else the error key.</summary>
    public async Task<string?> SendAsync(byte[] drain, CancellationToken ct)
    {
        // A fresh content object per call: HttpClient marks a sent content as consumed.
        var content = new ByteArrayContent(_framed);
        content.Headers.ContentType = s_grpcContentType;
        using var request = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact, // gRPC without TLS: HTTP/2 with prior knowledge
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            bool whole = await DrainAsync(response, drain, ct).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return RequestOutcome.Status(response.StatusCode);
            }

            string? status = Status(response.TrailingHeaders) ?? Status(response.Headers); // a trailers-only answer has it in the headers
            if (status != "0")
            {
                return status is not null && int.TryParse(status, out int code) ? "grpc " + (StatusCode)code : "grpc no status";
            }

            return whole ? null : "grpc malformed answer";
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException or TimeoutException)
        {
            return RequestOutcome.Failure(e);
        }
    }

    /// <summary>Reads the whole body; whether it was exactly one uncompressed length-prefixed message.</summary>
    private static async Task<bool> DrainAsync(HttpResponseMessage response, byte[] drain, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        long total = 0;
        ulong prefix = 0;
        int read;
        while ((read = await stream.ReadAsync(drain, ct).ConfigureAwait(false)) > 0)
        {
            for (int i = 0; total + i < PrefixBytes && i < read; i++)
            {
                prefix = (prefix << 8) | drain[i];
            }

            total += read;
        }

        bool compressed = prefix >> 32 != 0;
        return total >= PrefixBytes && !compressed && total == PrefixBytes + (long)(prefix & uint.MaxValue);
    }

    private static string? Status(HttpHeaders headers) => headers.TryGetValues("grpc-status", out var values) ? values.FirstOrDefault() : null;
}
