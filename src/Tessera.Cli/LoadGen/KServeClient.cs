using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Tessera.Cli.Common;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// A KServe v2 REST client tuned for measuring: one pooled HTTP/1.1 keep-alive connection per worker (Nagle off,
/// no proxy, cookies, redirects or decompression), a pre-serialised body, and responses drained into a reused
/// buffer without parsing.
/// </summary>
internal sealed class KServeClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly LoadSettings _settings;
    private readonly Uri _inferUri;

    public KServeClient(LoadSettings settings)
    {
        _settings = settings;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = settings.Concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler)
        {
            Timeout = settings.RequestTimeout,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        _inferUri = new Uri(settings.BaseUrl, settings.ModelPath + "/infer");
    }

    public void Dispose() => _http.Dispose();

    public async Task<ModelMetadata> GetMetadataAsync(CancellationToken ct)
    {
        var uri = new Uri(_settings.BaseUrl, _settings.ModelPath);
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(uri, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new CliException($"cannot reach {_settings.BaseUrl}: {(e is TaskCanceledException ? "no answer within the request timeout" : e.Message)}", 1);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new CliException($"the server at {_settings.BaseUrl} has no model '{_settings.Model}'" +
                    (_settings.ModelVersion is null ? "" : $" version '{_settings.ModelVersion}'") + $" (404: {ErrorText(body)})", 1);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"GET {uri} answered {(int)response.StatusCode}: {ErrorText(body)}", 1);
            }

            return ModelMetadata.Parse(body, _settings.Model);
        }
    }

    /// <summary>Sends the body once; null on a 200 answer, else the error key (status code or failure kind).</summary>
    public async Task<string?> InferAsync(RequestBody body, byte[] drain, CancellationToken ct)
    {
        // A fresh content object per request (a small wrapper over the shared body bytes): HttpClient marks a sent
        // content as consumed, so reusing one fails every request after the first.
        using var request = new HttpRequestMessage(HttpMethod.Post, _inferUri) { Content = CreateContent(body) };
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            while (await stream.ReadAsync(drain, ct).ConfigureAwait(false) > 0)
            {
            }

            return response.StatusCode == HttpStatusCode.OK ? null : RequestOutcome.Status(response.StatusCode);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException or TimeoutException)
        {
            return RequestOutcome.Failure(e);
        }
    }

    /// <summary>The first request, read in full: a client mistake (4xx) or an unreachable server ends the run with the server's message.</summary>
    public async Task ProbeAsync(RequestBody body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _inferUri) { Content = CreateContent(body) };
        try
        {
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 400 and < 500)
            {
                string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                throw new CliException($"the server rejected the request ({(int)response.StatusCode}): {ErrorText(text)}", 1);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new CliException($"cannot send to {_inferUri}: {(e is TaskCanceledException ? "no answer within the request timeout" : e.Message)}", 1);
        }
    }

    /// <summary>Wraps the pre-serialised bytes (not copied) with the content headers.</summary>
    public static HttpContent CreateContent(RequestBody body)
    {
        var content = new ByteArrayContent(body.Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(body.ContentType);
        if (body.HeaderLength is int n)
        {
            content.Headers.TryAddWithoutValidation(RequestBody.HeaderLengthName, n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return content;
    }

    /// <summary>The "error" field of a KServe error body, or the body itself (shortened).</summary>
    private static string ErrorText(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e))
            {
                return e.ToString();
            }
        }
        catch (JsonException)
        {
        }

        string text = body.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text.Length > 200 ? text[..200] + "..." : text;
    }
}
